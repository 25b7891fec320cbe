//! Who is asking: the client address that rate and connection limits count by.
//!
//! It is the peer address of the connection, unless that peer is one of
//! `[clients] trusted_proxies`: then it is the last address in `X-Forwarded-For` that is not
//! a trusted proxy (each proxy appends the address it saw, so the addresses further left
//! were written by the client and prove nothing). Rocket's own `client_ip()` trusts
//! `X-Real-IP` from anyone, so it is not used.
//!
//! IPv6 clients are counted per /64 network: one host is usually given a whole /64, and
//! counting single addresses would let it pick a fresh one for every request.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use rocket::request::Request;

/// The address limits count by (see the module documentation).
pub fn client_address(request: &Request<'_>, trusted: &[IpNet]) -> IpAddr {
    // The local test client has no peer; all its requests count as one unknown client.
    let peer = request
        .remote()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let trusts = |ip: &IpAddr| trusted.iter().any(|net| net.contains(&canonical(*ip)));
    if !trusts(&peer) {
        return counted(peer);
    }
    let forwarded: Vec<IpAddr> = request
        .headers()
        .get("X-Forwarded-For")
        .flat_map(|h| h.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    let client = forwarded
        .iter()
        .rev()
        .find(|ip| !trusts(ip))
        .or(forwarded.first())
        .copied()
        .unwrap_or(peer);
    counted(client)
}

/// An IPv4-mapped IPv6 address as plain IPv4, so both spellings count as one client.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The key a client is counted under: IPv4 as it is, IPv6 cut to its /64 network.
fn counted(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

/// Reads `[clients] trusted_proxies`: addresses (`10.0.0.1`) or networks (`10.0.0.0/8`).
pub fn parse_proxies(list: &[String]) -> Result<Vec<IpNet>, String> {
    list.iter()
        .map(|entry| {
            entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    format!("clients.trusted_proxies: `{entry}` is not an address or a network")
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_counts_per_network_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(counted(a), counted(b));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(counted(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn proxies_are_addresses_or_networks() {
        let list = parse_proxies(&["10.0.0.0/8".into(), "::1".into()]).unwrap();
        assert!(list[0].contains(&"10.1.2.3".parse::<IpAddr>().unwrap()));
        assert!(list[1].contains(&"::1".parse::<IpAddr>().unwrap()));
        assert!(parse_proxies(&["nope".into()]).is_err());
    }
}
