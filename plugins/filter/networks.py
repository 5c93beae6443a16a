# Copyright: eightfold.devops maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The networks filter: address and CIDR lists -> sorted, merged CIDRs (docs in networks.yml)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

try:
    import netaddr
except ImportError:  # reported when the filter is used, not when Ansible loads the plugin
    netaddr = None

_MAX_PREFIX = {4: 32, 6: 128}


def _parse(label, value):
    """One entry as a netaddr.IPNetwork; AnsibleFilterError naming label and value when it is not one."""
    if not isinstance(value, str):
        kind = "null" if value is None else type(value).__name__
        raise AnsibleFilterError(f"{label}: {value!r} is a {kind}, not an IP address or network string")
    text = value.strip()
    address, slash, prefix = text.partition("/")
    try:
        # INET_PTON: only the standard forms (no '10.1', no '012.1.1.1'); no zone ids.
        ip = netaddr.IPAddress(address, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise AnsibleFilterError(f"{label}: {value!r} is not a valid IP network") from None
    longest = _MAX_PREFIX[ip.version]
    if slash:
        if not prefix.isdigit() or not prefix.isascii():
            raise AnsibleFilterError(f"{label}: {value!r} is not a valid IP network (bad prefix length)")
        if int(prefix) > longest:
            raise AnsibleFilterError(
                f"{label}: {value!r} is not a valid IP network "
                f"(prefix /{int(prefix)} is longer than /{longest} for IPv{ip.version})"
            )
        length = int(prefix)
    else:
        length = longest
    network = netaddr.IPNetwork(f"{ip}/{length}")
    if network.ip != network.network:
        raise AnsibleFilterError(
            f"{label}: {value!r} has host bits set; did you mean {network.network}/{length}?"
        )
    return network


def networks(value, what="networks", family=None):
    """Sorted, merged CIDR strings (IPv4 first) from an address/CIDR string or list of them."""
    if netaddr is None:
        raise AnsibleFilterError(
            "the eightfold.devops.networks filter needs the netaddr Python library on the controller: "
            "pip install netaddr (the collection's requirements.txt lists what it needs)"
        )
    if family is not None:
        if str(family) not in ("4", "6"):
            raise AnsibleFilterError(f"{what}: family must be 4, 6 or None, not {family!r}")
        family = int(family)
    if isinstance(value, str):
        parsed = [_parse(what, value)]
    elif isinstance(value, (list, tuple)):
        parsed = [_parse(f"{what}[{index}]", item) for index, item in enumerate(value)]
    else:
        kind = "null" if value is None else type(value).__name__
        raise AnsibleFilterError(f"{what}: expected a string or a list of strings, got a {kind}: {value!r}")
    if family is not None:
        parsed = [network for network in parsed if network.version == family]
    merged = netaddr.cidr_merge(parsed)
    merged.sort(key=lambda network: (network.version, network.first, network.prefixlen))
    return [str(network) for network in merged]


class FilterModule:
    """eightfold.devops network filters."""

    def filters(self):
        return {"networks": networks}
