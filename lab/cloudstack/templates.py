"""Templates and ISOs registered from a URL into a zone's secondary storage.

registerTemplate/registerIso answer at once; the secondary-storage VM then downloads the image.
The download advances under the test's control, one step per read of the template (list*),
`download_steps` steps from "0% Downloaded" through "<n>% Downloaded" to "Download Complete"
(isready true, size known); `hold()` keeps every download where it is until `release()`;
`fail(name, text)` ends a download in error with that text as its status (as TemplateJoinDaoImpl
shows the error string). The checks are TemplateAdapterBase's: a known hypervisor, an image
format of ImageFormat, a zone with an image store, an OS type that exists.
"""

from __future__ import annotations

from typing import Any

from lab.cloudstack import errors
from lab.cloudstack.objects import HYPERVISORS, ImageStore
from lab.cloudstack.store import Store
from lab.cloudstack.tenant_objects import Account, OsType, Template
from lab.cloudstack.tenants import Tenants
from lab.cloudstack.zones import Zones

P = dict[str, Any]
IMAGE_FORMATS = ("QCOW2", "RAW", "VHD", "VHDX", "ISO", "OVA", "BAREMETAL", "VMDK", "VDI", "TAR", "ZIP", "DIR")
# A few rows of the guest_os table of 4.18 (fixed uuids here).
OS_TYPES = tuple((f"f3c3a6e2-0000-4000-8000-0000000001{n:02x}", d, c) for n, (d, c) in enumerate((
    ("Other Linux (64-bit)", "Other"),
    ("CentOS 7", "CentOS"),
    ("Debian GNU/Linux 12 (64-bit)", "Debian"),
    ("Ubuntu 22.04 LTS", "Ubuntu"),
    ("Rocky Linux 9", "RockyLinux"),
    ("Windows Server 2019 (64-bit)", "Windows"),
    ("Windows Server 2022 (64-bit)", "Windows"),
    ("Other (64-bit)", "Other"),
), start=1))
DOWNLOADED_SIZE = 2 << 30  # what a downloaded image reports as its virtual size


class Templates:
    def __init__(self, store: Store, zones: Zones, tenants: Tenants) -> None:
        self.store = store
        self.zones = zones
        self.tenants = tenants
        self.download_steps = 2
        self._held = False
        self._failures: dict[str, str] = {}
        tenants.counters.append(self)
        for uid, description, category in OS_TYPES:
            store.add(OsType(uid, store.next_dbid(), description, category))

    # --- the test's knobs ---------------------------------------------------------------------
    def hold(self) -> None:
        self._held = True

    def release(self) -> None:
        self._held = False

    def fail(self, name: str, text: str) -> None:
        """The next read of the template (or ISO) called `name` ends its download with `text`."""
        self._failures[name] = text

    # --- reads ------------------------------------------------------------------------------------
    def os_type(self, uid: str | None) -> OsType:
        found = self.store.get(OsType, uid)
        if found is not None:
            return found
        raise errors.invalid_parameter(f"Please specify a valid guest OS type. Unable to find OS type with id {uid}")

    def advance(self, t: Template) -> None:
        """One read of `t`: its download moves on one step unless held."""
        if t.name in self._failures and t.download_state != "DOWNLOADED":
            t.download_state, t.errorstring = "DOWNLOAD_ERROR", self._failures.pop(t.name)
            return
        if self._held or t.download_state in ("DOWNLOADED", "DOWNLOAD_ERROR"):
            return
        if t.download_state == "NOT_DOWNLOADED":
            t.download_state = "DOWNLOAD_IN_PROGRESS"
            if self.download_steps > 0:
                return
        step = 100 // max(self.download_steps, 1)
        t.download_percent = min(t.download_percent + step, 100)
        if t.download_percent >= 100 or self.download_steps <= 1:
            t.download_state, t.download_percent, t.size = "DOWNLOADED", 100, DOWNLOADED_SIZE

    def template(self, uid: str | None, iso: bool = False) -> Template:
        t = self.store.get(Template, uid)
        if t is None or t.is_iso != iso:
            what = "ISO" if iso else "template"
            raise errors.invalid_parameter(f"unable to find {what} with id {uid}")
        return t

    def listed(self, caller: Account, p: P, iso: bool) -> list[Template]:
        """listTemplates(templatefilter) / listIsos(isofilter): self, featured, community,
        selfexecutable, sharedexecutable, executable, all (admin)."""
        filt = (p.get("isofilter") if iso else p.get("templatefilter")) or "selfexecutable"
        out = []
        for t in self.store.all(Template):
            if t.is_iso != iso or not self._matches(caller, t, filt):
                continue
            self.advance(t)
            out.append(t)
        return out

    def _matches(self, caller: Account, t: Template, filt: str) -> bool:
        assert t.owner is not None
        mine = t.owner is caller
        rules = {
            "self": mine, "selfexecutable": mine and t.isready,
            "featured": t.isfeatured and t.ispublic, "community": t.ispublic and not t.isfeatured,
            "executable": (mine or t.ispublic) and t.isready,
            "sharedexecutable": t.isready and not mine and self.tenants.can_see(caller, t.owner),
            "all": self.tenants.is_root_admin(caller) or mine or t.ispublic
            or self.tenants.can_see(caller, t.owner),
        }
        if filt not in rules:
            raise errors.invalid_parameter(f"Please specify a valid template filter. Filter {filt} is invalid")
        return rules[filt]

    # --- writes -----------------------------------------------------------------------------------
    def register(self, caller: Account, p: P, iso: bool) -> Template:
        zone = self.zones.zone(p.get("zoneid") or (p.get("zoneids") or [None])[0])
        owner = self.tenants.owner_for(caller, p)
        fmt = "ISO" if iso else (p.get("format") or "")
        if fmt.upper() not in IMAGE_FORMATS:
            raise errors.invalid_parameter(
                f"Image format: {fmt} is incorrect. Supported formats are {', '.join(IMAGE_FORMATS)}")
        hypervisor = None
        if not iso:
            hypervisor = next((h for h in HYPERVISORS if h.lower() == (p.get("hypervisor") or "").lower()), None)
            if hypervisor is None:
                raise errors.invalid_parameter(
                    f"Hypervisor Type: {p.get('hypervisor')} is invalid. Supported Hypervisor types are "
                    f"{', '.join(HYPERVISORS)}")
        url = p["url"]
        if not url.lower().startswith(("http://", "https://")):
            raise errors.invalid_parameter(f"Unsupported scheme for url: {url}")
        if not [s for s in self.store.all(ImageStore) if s.role == "Image" and (s.zone is zone or s.zone is None)]:
            raise errors.invalid_parameter(f"Failed to find a secondary storage in the specified zone {zone.id}")
        if not self.tenants.is_root_admin(caller) and p.get("isfeatured"):
            raise errors.permission_denied("Only admins can create featured templates")
        self.tenants.check_limit(owner, 4, 1)
        uid, dbid = self.store.new_id()
        return self.store.add(Template(
            uid, dbid, p["name"], p.get("displaytext") or p["name"], url, zone, owner, hypervisor, fmt.upper(),
            self.os_type(p.get("ostypeid")), bool(p.get("ispublic", False)), bool(p.get("isfeatured", False)),
            bool(p.get("isextractable", False)), bool(p.get("passwordenabled", False)),
            bool(p.get("sshkeyenabled", False)) if not iso else False, bool(p.get("isdynamicallyscalable", False)),
            bool(p.get("requireshvm", True)) if not iso else True,
            bool(p.get("bootable", True)) if iso else True, p.get("checksum")))

    def update(self, caller: Account, p: P, iso: bool) -> Template:
        t = self.template(p["id"], iso)
        assert t.owner is not None
        self.tenants.check_access(caller, t.owner, f"template {t.name}")
        if p.get("name"):
            t.name = p["name"]
        if p.get("displaytext"):
            t.displaytext = p["displaytext"]
        if p.get("ostypeid") is not None:
            t.ostype = self.os_type(p["ostypeid"])
        for attr in ("passwordenabled", "sshkeyenabled", "isdynamicallyscalable", "requireshvm", "bootable"):
            if attr in p:
                setattr(t, attr, bool(p[attr]))
        return t

    def delete(self, caller: Account, t: Template, in_use: bool) -> None:
        assert t.owner is not None
        self.tenants.check_access(caller, t.owner, f"template {t.name}")
        if in_use:
            raise errors.invalid_parameter(
                f"Unable to delete template {t.name} because VM instances are using it; use forced=true")
        self.store.remove(t)

    def count(self, account: Account) -> dict[int, int]:
        """Resource type 4 (template) counts what an account registered."""
        return {4: sum(1 for t in self.store.all(Template) if t.owner is account)}

    def forget(self, account: Account) -> None:
        """An account deleted: its templates go with it."""
        for t in self.store.all(Template):
            if t.owner is account:
                self.store.remove(t)
