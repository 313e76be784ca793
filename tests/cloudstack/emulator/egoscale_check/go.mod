module privatecloud.test/egoscalecheck

go 1.21

require github.com/exoscale/egoscale v0.18.1

require github.com/gofrs/uuid v3.2.0+incompatible // indirect
