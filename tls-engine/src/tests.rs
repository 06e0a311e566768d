//! Handshakes against an in-memory rustls server with certificates made for the run: what each certificate
//! problem and failure is reported as, and that bytes flow both ways once established.

use std::io::{Read, Write};
use std::sync::Arc;

use rcgen::{date_time_ymd, BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection};

use crate::bindings::exports::ai_agent_sockets::tls::client::{
    CertificateProblem, GuestSession, HandshakeProblem, SessionState, TlsError,
};
use crate::session::Session;

struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn ca() -> Ca {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(rcgen::DnType::CommonName, "test CA");
    let cert = params.self_signed(&key).expect("CA");
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    }
}

struct Leaf {
    der: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

fn leaf(ca: &Ca, names: &[&str], edit: impl FnOnce(&mut CertificateParams)) -> Leaf {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("params");
    params.distinguished_name.push(rcgen::DnType::CommonName, "leaf");
    edit(&mut params);
    let cert = params.signed_by(&key, &ca.issuer).expect("leaf");
    Leaf {
        der: cert.der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    }
}

pub fn self_signed_der() -> Vec<u8> {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).expect("params");
    params.distinguished_name.push(rcgen::DnType::CommonName, "localhost");
    params.self_signed(&key).expect("cert").der().to_vec()
}

fn server(leaf: &Leaf, versions: &[&'static rustls::SupportedProtocolVersion]) -> ServerConnection {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der.clone()], leaf.key.clone_key())
        .expect("server config");
    ServerConnection::new(Arc::new(config)).expect("server")
}

/// Moves bytes both ways until neither side has more to send; the client's first error, if any.
fn pump(client: &Session, server: &mut ServerConnection) -> Result<(), TlsError> {
    for _ in 0..20 {
        let to_server = client.take_outgoing(1 << 20);
        let mut slice = &to_server[..];
        while !slice.is_empty() {
            if server.read_tls(&mut slice).expect("server read") == 0 {
                break;
            }
            if server.process_new_packets().is_err() {
                break;
            }
        }
        let mut to_client = Vec::new();
        while server.wants_write() {
            server.write_tls(&mut to_client).expect("server write");
        }
        if to_server.is_empty() && to_client.is_empty() {
            return Ok(());
        }
        let mut offset = 0;
        while offset < to_client.len() {
            let (taken, _) = client.feed(to_client[offset..].to_vec())?;
            offset += taken as usize;
            if taken == 0 {
                break;
            }
        }
    }
    Ok(())
}

fn handshake(server_name: &str, roots: &str, leaf: &Leaf) -> Result<Session, TlsError> {
    let client = Session::open(server_name, roots).expect("session");
    let mut srv = server(leaf, &[&rustls::version::TLS13, &rustls::version::TLS12]);
    pump(&client, &mut srv)?;
    Ok(client)
}

#[test]
fn tls13_and_tls12_handshakes_then_echo() {
    let ca = ca();
    let leaf = leaf(&ca, &["peer.test"], |_| {});
    for (version, expected) in [(&rustls::version::TLS13, "TLSv1.3"), (&rustls::version::TLS12, "TLSv1.2")] {
        let client = Session::open("peer.test", &ca.pem).expect("session");
        let mut srv = server(&leaf, &[version]);
        assert_eq!(client.write(b"hello".to_vec()).expect("write"), 5);
        pump(&client, &mut srv).expect("handshake");
        assert_eq!(client.status().expect("status").state, SessionState::Established);
        assert_eq!(client.protocol_version().as_deref(), Some(expected));
        let suite = client.cipher_suite().expect("suite");
        // Offered first (no AES instructions in WebAssembly), and rustls's server follows the client's order.
        assert!(suite.contains("CHACHA20_POLY1305") && !suite.starts_with("TLS13_"), "{suite}");
        let mut got = [0u8; 5];
        srv.reader().read_exact(&mut got).expect("server got plaintext");
        assert_eq!(&got, b"hello");
        srv.writer().write_all(b"world").expect("server write");
        srv.send_close_notify();
        pump(&client, &mut srv).expect("reply");
        let status = client.status().expect("status");
        assert_eq!(status.plaintext_bytes, 5);
        assert_eq!(client.read(3).expect("read"), b"wor");
        assert_eq!(client.read(100).expect("read"), b"ld");
        assert_eq!(client.status().expect("status").state, SessionState::PeerClosed);
    }
}

fn certificate_problem(result: Result<Session, TlsError>) -> CertificateProblem {
    match result {
        Err(TlsError::Certificate(problem)) => problem,
        Err(other) => panic!("not a certificate problem: {other:?}"),
        Ok(_) => panic!("handshake succeeded"),
    }
}

#[test]
fn each_certificate_problem_is_named() {
    let ca = ca();
    let good = leaf(&ca, &["peer.test"], |_| {});
    assert!(matches!(certificate_problem(handshake("peer.test", "", &good)), CertificateProblem::UnknownIssuer));
    assert!(matches!(certificate_problem(handshake("other.test", &ca.pem, &good)), CertificateProblem::NotValidForName));
    let expired = leaf(&ca, &["peer.test"], |p| {
        p.not_before = date_time_ymd(2000, 1, 1);
        p.not_after = date_time_ymd(2001, 1, 1);
    });
    assert!(matches!(certificate_problem(handshake("peer.test", &ca.pem, &expired)), CertificateProblem::Expired));
    let future = leaf(&ca, &["peer.test"], |p| {
        p.not_before = date_time_ymd(4000, 1, 1);
        p.not_after = date_time_ymd(4001, 1, 1);
    });
    assert!(matches!(certificate_problem(handshake("peer.test", &ca.pem, &future)), CertificateProblem::NotYetValid));
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec!["peer.test".to_string()]).expect("params");
    params.distinguished_name.push(rcgen::DnType::CommonName, "peer.test");
    let self_signed = Leaf {
        der: params.self_signed(&key).expect("cert").der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    };
    assert!(matches!(certificate_problem(handshake("peer.test", "", &self_signed)), CertificateProblem::SelfSigned));
    // As `openssl req -x509` makes them: marked as a CA.
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let self_signed_ca = Leaf {
        der: params.self_signed(&key).expect("cert").der().clone(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    };
    assert!(matches!(certificate_problem(handshake("peer.test", "", &self_signed_ca)), CertificateProblem::SelfSigned));
}

#[test]
fn an_ip_server_name_needs_an_ip_san() {
    let ca = ca();
    let with_ip = leaf(&ca, &["127.0.0.1", "::1"], |_| {});
    assert!(handshake("127.0.0.1", &ca.pem, &with_ip).is_ok());
    assert!(handshake("::1", &ca.pem, &with_ip).is_ok());
    let names_only = leaf(&ca, &["localhost"], |_| {});
    assert!(matches!(certificate_problem(handshake("127.0.0.1", &ca.pem, &names_only)), CertificateProblem::NotValidForName));
}

#[test]
fn a_plaintext_answer_is_not_tls() {
    let client = Session::open("peer.test", "").expect("session");
    assert!(!client.take_outgoing(1 << 16).is_empty(), "a ClientHello waits");
    match client.feed(b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec()) {
        Err(TlsError::Handshake(HandshakeProblem::NotTls(_))) => {}
        other => panic!("{other:?}"),
    }
    // The failure stays: later calls report it instead of moving bytes.
    assert!(client.write(b"x".to_vec()).is_err());
    assert!(client.read(10).is_err());
}

#[test]
fn a_peer_alert_is_named() {
    let client = Session::open("peer.test", "").expect("session");
    client.take_outgoing(1 << 16);
    // A plaintext fatal alert record: handshake_failure (40).
    match client.feed(vec![0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40]) {
        Err(TlsError::Handshake(HandshakeProblem::PeerAlert(name))) => assert_eq!(name, "handshake_failure"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn server_names_and_roots_are_checked() {
    for bad in ["", "a b", "exa mple.com", "-", "a..b", "[::1]", "host:443"] {
        assert!(Session::open(bad, "").is_err(), "{bad:?}");
    }
    let ca = ca();
    let mut store = rustls::RootCertStore::empty();
    assert_eq!(crate::roots::add_pem_roots(&mut store, &format!("{}\n{}", ca.pem, ca.pem)), Ok(2));
    assert_eq!(crate::roots::add_pem_roots(&mut rustls::RootCertStore::empty(), "no PEM here"), Ok(0));
    let broken = ca.pem.replacen("MI", "M!", 1);
    assert!(crate::roots::add_pem_roots(&mut rustls::RootCertStore::empty(), &broken).is_err());
    let not_a_cert = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert!(crate::roots::add_pem_roots(&mut rustls::RootCertStore::empty(), not_a_cert).is_err());
    let unterminated = ca.pem.replace("-----END CERTIFICATE-----", "");
    assert!(crate::roots::add_pem_roots(&mut rustls::RootCertStore::empty(), &unterminated).is_err());
    assert!(Session::open("peer.test", &broken).is_err());
}

#[test]
fn buffers_are_bounded() {
    let ca = ca();
    let leaf = leaf(&ca, &["peer.test"], |_| {});
    let client = Session::open("peer.test", &ca.pem).expect("session");
    let mut srv = server(&leaf, &[&rustls::version::TLS13]);
    pump(&client, &mut srv).expect("handshake");
    // Plaintext written is taken up to the send buffer, not without end.
    let taken = client.write(vec![1u8; 1 << 20]).expect("write");
    assert!(taken > 0 && (taken as usize) < (1 << 20), "{taken}");
    // A megabyte from the server: feed takes less than all of it while its plaintext is unread.
    srv.set_buffer_limit(None);
    srv.writer().write_all(&vec![2u8; 1 << 20]).expect("server write");
    let mut ciphertext = Vec::new();
    while srv.wants_write() {
        srv.write_tls(&mut ciphertext).expect("server write");
    }
    let (taken, status) = client.feed(ciphertext.clone()).expect("feed");
    assert!((taken as usize) < ciphertext.len());
    assert!(status.plaintext_bytes > 0 && status.plaintext_bytes < (1 << 20));
    // Reading it all, feeding the rest as room is made, gives every byte.
    let mut offset = taken as usize;
    let mut received = 0usize;
    loop {
        let chunk = client.read(1 << 16).expect("read");
        received += chunk.len();
        if offset == ciphertext.len() && chunk.is_empty() {
            break;
        }
        let (taken, _) = client.feed(ciphertext[offset..].to_vec()).expect("feed");
        offset += taken as usize;
    }
    assert_eq!(received, 1 << 20);
}
