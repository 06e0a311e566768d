//! Trust anchors (Mozilla's, from webpki-roots, plus the operator's PEM) and the client configuration built on
//! them: TLS 1.2 and 1.3 only, ring's cipher suites, certificates always verified.

use std::cell::RefCell;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, CipherSuite, ClientConfig, DigitallySignedStruct, Error, OtherError, RootCertStore, SignatureScheme};

use crate::der;

/// Largest operator PEM read: far above any real bundle (Mozilla's whole set is ~220 KB), and a bound.
const MAX_ROOTS_PEM_BYTES: usize = 4 * 1024 * 1024;

/// Reads the operator's PEM (certificates only; other sections are skipped) into `store`; how many it added.
pub fn add_pem_roots(store: &mut RootCertStore, pem_text: &str) -> Result<u32, String> {
    if pem_text.len() > MAX_ROOTS_PEM_BYTES {
        return Err(format!("larger than {MAX_ROOTS_PEM_BYTES} bytes"));
    }
    let mut count = 0u32;
    for (index, item) in CertificateDer::pem_slice_iter(pem_text.as_bytes()).enumerate() {
        let number = index + 1;
        let cert = item.map_err(|e| format!("certificate {number}: {}", describe_pem_error(&e)))?;
        store
            .add(cert)
            .map_err(|e| format!("certificate {number} is not a usable X.509 certificate ({e})"))?;
        count = count.saturating_add(1);
    }
    Ok(count)
}

/// The PEM parser's error without the input's bytes (the operator's setting is not echoed).
fn describe_pem_error(error: &pem::Error) -> &'static str {
    match error {
        pem::Error::MissingSectionEnd { .. } => "a BEGIN line has no matching END line",
        pem::Error::IllegalSectionStart { .. } => "a BEGIN line is malformed",
        pem::Error::Base64Decode(_) => "the base64 between BEGIN and END does not decode",
        pem::Error::SectionTooLarge => "a section is too large",
        _ => "the PEM text cannot be read",
    }
}

/// What `verify_server_cert` reports for a certificate that is its own issuer and not trusted.
#[derive(Debug)]
pub struct SelfSigned;

impl std::fmt::Display for SelfSigned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("self-signed certificate")
    }
}

impl std::error::Error for SelfSigned {}

/// webpki's verifier, unchanged, except that an unknown issuer is reported as self-signed when the server
/// sent one certificate that names itself as its issuer (webpki cannot tell the two apart). `openssl req
/// -x509` marks such a certificate as a CA, which webpki reports as "CA used as end entity": the same case.
#[derive(Debug)]
struct Verifier {
    webpki: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        self.webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(|error| match error {
                Error::InvalidCertificate(ref problem)
                    if intermediates.is_empty() && untrusted_issuer(problem) && der::is_self_issued(end_entity) =>
                {
                    Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(SelfSigned))))
                }
                other => other,
            })
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// Whether webpki's `problem` says the chain found no trusted issuer (or stopped at a CA certificate sent as the end entity).
fn untrusted_issuer(problem: &CertificateError) -> bool {
    match problem {
        CertificateError::UnknownIssuer => true,
        CertificateError::Other(other) => matches!(other.0.downcast_ref::<webpki::Error>(), Some(webpki::Error::CaUsedAsEndEntity)),
        _ => false,
    }
}

/// The client configuration trusting Mozilla's roots and `extra_roots_pem`.
fn build_config(extra_roots_pem: &str) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    add_pem_roots(&mut roots, extra_roots_pem)?;
    let mut provider = rustls::crypto::ring::default_provider();
    // WebAssembly has no AES instructions, so ring's AES-GCM runs in portable code, several times slower
    // than ChaCha20-Poly1305: offered first, it is what servers that follow the client's order choose.
    provider.cipher_suites.sort_by_key(|suite| {
        !matches!(
            suite.suite(),
            CipherSuite::TLS13_CHACHA20_POLY1305_SHA256
                | CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
                | CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
        )
    });
    let provider = Arc::new(provider);
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("trust anchors rejected: {e}"))?;
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("protocol versions: {e}"))?
        // "dangerous" only because the verifier is ours: it is webpki's, with a finer error.
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Verifier { webpki }))
        .with_no_client_auth();
    // Each session stands alone: no ticket or session id links one request to another.
    config.resumption = Resumption::disabled();
    Ok(Arc::new(config))
}

thread_local! {
    /// The last configuration built, by the PEM it trusts: an instance that serves many requests builds it once.
    static CONFIG: RefCell<Option<(String, Arc<ClientConfig>)>> = const { RefCell::new(None) };
}

/// The client configuration for `extra_roots_pem`, built once per distinct PEM text.
pub fn config_for(extra_roots_pem: &str) -> Result<Arc<ClientConfig>, String> {
    // The cell is only borrowed here, and nothing in here calls back into it.
    CONFIG.with(|cell| {
        let mut cached = cell.borrow_mut();
        if let Some((pem_text, config)) = cached.as_ref() {
            if pem_text == extra_roots_pem {
                return Ok(config.clone());
            }
        }
        let config = build_config(extra_roots_pem)?;
        *cached = Some((extra_roots_pem.to_owned(), config.clone()));
        Ok(config)
    })
}
