//! A tiny authoritative name server on loopback for the probe's injectable resolver (`DnsConfig::Servers`): each
//! name answers with the addresses it was given, in that order; AAAA and A queries each get their own family; every
//! other name is NXDOMAIN. It stops when dropped.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA};
use hickory_proto::rr::{RData, Record, RecordType};

pub struct TestDns {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestDns {
    /// Serves `records`: (name, its addresses in the order they are to be given).
    pub fn start(records: &[(&str, &[IpAddr])]) -> TestDns {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind a loopback UDP port");
        socket.set_read_timeout(Some(Duration::from_millis(50))).expect("a read timeout");
        let addr = socket.local_addr().expect("local address");
        let table: HashMap<String, Vec<IpAddr>> =
            records.iter().map(|(name, ips)| (format!("{}.", name.trim_end_matches('.').to_ascii_lowercase()), ips.to_vec())).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::Builder::new()
            .name("test-dns".into())
            .spawn(move || {
                let mut buf = [0u8; 1500];
                while !stopped.load(Ordering::SeqCst) {
                    let Ok((n, peer)) = socket.recv_from(&mut buf) else { continue };
                    if let Some(answer) = Message::from_vec(&buf[..n]).ok().and_then(|query| answer(&query, &table)) {
                        let _ = socket.send_to(&answer, peer);
                    }
                }
            })
            .expect("start the test name server");
        TestDns { addr, stop, thread: Some(thread) }
    }

    /// Where to send queries: `DnsConfig::Servers(vec![dns.addr()])`.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for TestDns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn answer(query: &Message, table: &HashMap<String, Vec<IpAddr>>) -> Option<Vec<u8>> {
    let mut response = Message::new();
    response.set_id(query.id()).set_message_type(MessageType::Response).set_authoritative(true).set_recursion_desired(true);
    for q in query.queries() {
        response.add_query(q.clone());
        match table.get(&q.name().to_ascii().to_ascii_lowercase()) {
            Some(ips) => {
                for ip in ips {
                    let rdata = match (q.query_type(), ip) {
                        (RecordType::A, IpAddr::V4(v4)) => RData::A(A(*v4)),
                        (RecordType::AAAA, IpAddr::V6(v6)) => RData::AAAA(AAAA(*v6)),
                        _ => continue,
                    };
                    response.add_answer(Record::from_rdata(q.name().clone(), 60, rdata));
                }
            }
            None => {
                response.set_response_code(ResponseCode::NXDomain);
            }
        }
    }
    response.to_vec().ok()
}
