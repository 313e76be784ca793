// Drive the CloudStack emulator with a Go CloudStack client nobody here wrote: Exoscale's egoscale
// v0.18 (a CloudStack API client with its own request signing). Reads CLOUDSTACK_ENDPOINT,
// CLOUDSTACK_API_KEY and CLOUDSTACK_SECRET_KEY; prints one JSON line with what it got.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/exoscale/egoscale"
)

type result struct {
	APICount    int      `json:"api_count"`
	APIListed   int      `json:"api_listed"`
	CreateZone  bool     `json:"createzone_required_networktype"`
	AsyncDelete bool     `json:"deletephysicalnetwork_isasync"`
	Zones       []string `json:"zones"`
	ByName      []string `json:"zones_by_name"`
}

func main() {
	client := egoscale.NewClient(os.Getenv("CLOUDSTACK_ENDPOINT"), os.Getenv("CLOUDSTACK_API_KEY"),
		os.Getenv("CLOUDSTACK_SECRET_KEY"))
	var out result

	resp, err := client.Request(&egoscale.ListAPIs{})
	if err != nil {
		fail(err)
	}
	apis := resp.(*egoscale.ListAPIsResponse)
	out.APICount, out.APIListed = apis.Count, len(apis.API)
	for _, api := range apis.API {
		if api.Name == "deletePhysicalNetwork" {
			out.AsyncDelete = api.IsAsync
		}
		if api.Name == "createZone" {
			for _, p := range api.Params {
				if p.Name == "networktype" {
					out.CreateZone = p.Required
				}
			}
		}
	}

	zones, err := client.Request(&egoscale.ListZones{})
	if err != nil {
		fail(err)
	}
	for _, z := range zones.(*egoscale.ListZonesResponse).Zone {
		out.Zones = append(out.Zones, z.Name)
	}
	named, err := client.Request(&egoscale.ListZones{Name: "zone-b"})
	if err != nil {
		fail(err)
	}
	for _, z := range named.(*egoscale.ListZonesResponse).Zone {
		out.ByName = append(out.ByName, z.Name)
	}

	text, _ := json.Marshal(out)
	fmt.Println(string(text))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
