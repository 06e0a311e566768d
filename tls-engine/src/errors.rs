//! rustls's errors as the interface's: which certificate problem, which handshake failure, in short words.

use rustls::{AlertDescription, CertificateError, Error, PeerIncompatible};

use crate::bindings::exports::ai_agent_sockets::tls::client::{CertificateProblem, HandshakeProblem, TlsError};
use crate::roots::SelfSigned;

/// Longest text carried in an error: rustls's descriptions are short; this bounds what a peer can put in one.
const MAX_TEXT_CHARS: usize = 200;

fn text(value: impl std::fmt::Debug) -> String {
    format!("{value:?}").chars().take(MAX_TEXT_CHARS).collect()
}

/// The alert's name as in the IANA TLS registry.
fn alert_name(alert: AlertDescription) -> String {
    let name = match alert {
        AlertDescription::CloseNotify => "close_notify",
        AlertDescription::UnexpectedMessage => "unexpected_message",
        AlertDescription::BadRecordMac => "bad_record_mac",
        AlertDescription::DecryptionFailed => "decryption_failed",
        AlertDescription::RecordOverflow => "record_overflow",
        AlertDescription::DecompressionFailure => "decompression_failure",
        AlertDescription::HandshakeFailure => "handshake_failure",
        AlertDescription::NoCertificate => "no_certificate",
        AlertDescription::BadCertificate => "bad_certificate",
        AlertDescription::UnsupportedCertificate => "unsupported_certificate",
        AlertDescription::CertificateRevoked => "certificate_revoked",
        AlertDescription::CertificateExpired => "certificate_expired",
        AlertDescription::CertificateUnknown => "certificate_unknown",
        AlertDescription::IllegalParameter => "illegal_parameter",
        AlertDescription::UnknownCA => "unknown_ca",
        AlertDescription::AccessDenied => "access_denied",
        AlertDescription::DecodeError => "decode_error",
        AlertDescription::DecryptError => "decrypt_error",
        AlertDescription::ExportRestriction => "export_restriction",
        AlertDescription::ProtocolVersion => "protocol_version",
        AlertDescription::InsufficientSecurity => "insufficient_security",
        AlertDescription::InternalError => "internal_error",
        AlertDescription::InappropriateFallback => "inappropriate_fallback",
        AlertDescription::UserCanceled => "user_canceled",
        AlertDescription::NoRenegotiation => "no_renegotiation",
        AlertDescription::MissingExtension => "missing_extension",
        AlertDescription::UnsupportedExtension => "unsupported_extension",
        AlertDescription::CertificateUnobtainable => "certificate_unobtainable",
        AlertDescription::UnrecognisedName => "unrecognized_name",
        AlertDescription::BadCertificateStatusResponse => "bad_certificate_status_response",
        AlertDescription::BadCertificateHashValue => "bad_certificate_hash_value",
        AlertDescription::UnknownPSKIdentity => "unknown_psk_identity",
        AlertDescription::CertificateRequired => "certificate_required",
        AlertDescription::NoApplicationProtocol => "no_application_protocol",
        AlertDescription::EncryptedClientHelloRequired => "encrypted_client_hello_required",
        other => return format!("alert {}", u8::from(other)),
    };
    name.to_owned()
}

fn certificate_problem(error: CertificateError) -> CertificateProblem {
    match error {
        CertificateError::UnknownIssuer => CertificateProblem::UnknownIssuer,
        CertificateError::Other(ref other) if other.0.downcast_ref::<SelfSigned>().is_some() => CertificateProblem::SelfSigned,
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            CertificateProblem::NotValidForName
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => CertificateProblem::Expired,
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => CertificateProblem::NotYetValid,
        CertificateError::Revoked => CertificateProblem::Revoked,
        other => CertificateProblem::Other(text(other)),
    }
}

fn incompatible(problem: PeerIncompatible) -> HandshakeProblem {
    match problem {
        PeerIncompatible::ServerDoesNotSupportTls12Or13
        | PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig
        | PeerIncompatible::SupportedVersionsExtensionRequired
        | PeerIncompatible::Tls12NotOffered
        | PeerIncompatible::Tls12NotOfferedOrEnabled => HandshakeProblem::NoCommonVersion,
        PeerIncompatible::NoCipherSuitesInCommon => HandshakeProblem::NoCommonParameters("no cipher suite in common".into()),
        PeerIncompatible::NoKxGroupsInCommon => HandshakeProblem::NoCommonParameters("no key exchange group in common".into()),
        PeerIncompatible::NoSignatureSchemesInCommon => {
            HandshakeProblem::NoCommonParameters("no signature scheme in common".into())
        }
        other => HandshakeProblem::Other(text(other)),
    }
}

/// What went wrong, for the caller.
pub fn tls_error(error: Error) -> TlsError {
    match error {
        Error::InvalidCertificate(problem) => TlsError::Certificate(certificate_problem(problem)),
        Error::NoCertificatesPresented => TlsError::Certificate(CertificateProblem::Other("no certificate presented".into())),
        Error::AlertReceived(alert) => TlsError::Handshake(HandshakeProblem::PeerAlert(alert_name(alert))),
        Error::PeerIncompatible(problem) => TlsError::Handshake(incompatible(problem)),
        Error::InvalidMessage(problem) => TlsError::Handshake(HandshakeProblem::NotTls(text(problem))),
        Error::InappropriateMessage { got_type, .. } => {
            TlsError::Handshake(HandshakeProblem::NotTls(format!("unexpected {}", text(got_type))))
        }
        Error::InappropriateHandshakeMessage { got_type, .. } => {
            TlsError::Handshake(HandshakeProblem::NotTls(format!("unexpected {}", text(got_type))))
        }
        Error::PeerSentOversizedRecord => TlsError::Handshake(HandshakeProblem::NotTls("oversized record".into())),
        Error::PeerMisbehaved(problem) => TlsError::Handshake(HandshakeProblem::Other(text(problem))),
        other => TlsError::Handshake(HandshakeProblem::Other(other.to_string().chars().take(MAX_TEXT_CHARS).collect())),
    }
}
