//! One client connection over rustls's `ClientConnection`, moving bytes only: ciphertext in and out, plaintext
//! in and out. Every buffer is bounded; nothing here panics on what a peer sends.

use std::cell::RefCell;
use std::io::{self, Read, Write};

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, ProtocolVersion};

use crate::bindings::exports::ai_agent_sockets::tls::client::{
    GuestSession, SessionState, SetupError, Status, TlsError,
};
use crate::errors::tls_error;
use crate::roots::config_for;

/// Most bytes moved in one `read` or `take-outgoing` (the caller asks for less as it likes).
const MAX_TRANSFER_BYTES: u32 = 256 * 1024;
/// Plaintext written but not yet encrypted (during the handshake) or not yet taken as ciphertext.
const SEND_BUFFER_BYTES: usize = 64 * 1024;

pub struct Session {
    // Each method borrows it once and calls nothing that borrows it again, so the borrow never fails.
    connection: RefCell<ClientConnection>,
}

/// An `io::Write` that takes at most `room` more bytes into `out`.
struct Bounded<'a> {
    out: &'a mut Vec<u8>,
    room: usize,
}

impl Write for Bounded<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(self.room);
        self.out.extend_from_slice(&data[..n]);
        self.room -= n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn status_of(connection: &mut ClientConnection) -> Result<Status, TlsError> {
    let io = connection.process_new_packets().map_err(tls_error)?;
    let state = if connection.is_handshaking() {
        SessionState::Handshaking
    } else if io.peer_has_closed() {
        SessionState::PeerClosed
    } else {
        SessionState::Established
    };
    Ok(Status {
        state,
        outgoing_bytes: u32::try_from(io.tls_bytes_to_write()).unwrap_or(u32::MAX),
        plaintext_bytes: u32::try_from(io.plaintext_bytes_to_read()).unwrap_or(u32::MAX),
    })
}

impl Session {
    pub fn open(server_name: &str, extra_roots_pem: &str) -> Result<Session, SetupError> {
        let name = ServerName::try_from(server_name)
            .map_err(|_| SetupError::InvalidServerName("neither a DNS name nor an IP address".into()))?
            .to_owned();
        let config = config_for(extra_roots_pem).map_err(SetupError::InvalidRoots)?;
        let mut connection = ClientConnection::new(config, name)
            .map_err(|e| SetupError::InvalidServerName(e.to_string()))?;
        connection.set_buffer_limit(Some(SEND_BUFFER_BYTES));
        Ok(Session {
            connection: RefCell::new(connection),
        })
    }
}

impl GuestSession for Session {
    fn feed(&self, ciphertext: Vec<u8>) -> Result<(u32, Status), TlsError> {
        let mut connection = self.connection.borrow_mut();
        let mut rest: &[u8] = &ciphertext;
        while !rest.is_empty() {
            // rustls reads at most one buffer's worth per call, and refuses more while its received
            // plaintext is full: what is left is the caller's to hand in again after `read`.
            match connection.read_tls(&mut rest) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            connection.process_new_packets().map_err(tls_error)?;
        }
        let taken = u32::try_from(ciphertext.len() - rest.len()).unwrap_or(u32::MAX);
        Ok((taken, status_of(&mut connection)?))
    }

    fn take_outgoing(&self, max_bytes: u32) -> Vec<u8> {
        let mut connection = self.connection.borrow_mut();
        let mut out = Vec::new();
        let mut sink = Bounded {
            out: &mut out,
            room: max_bytes.min(MAX_TRANSFER_BYTES) as usize,
        };
        while sink.room > 0 && connection.wants_write() {
            match connection.write_tls(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        out
    }

    fn write(&self, plaintext: Vec<u8>) -> Result<u32, TlsError> {
        let mut connection = self.connection.borrow_mut();
        // An earlier failure is reported, instead of plaintext being taken by a dead session.
        connection.process_new_packets().map_err(tls_error)?;
        let taken = connection.writer().write(&plaintext).unwrap_or(0);
        Ok(u32::try_from(taken).unwrap_or(u32::MAX))
    }

    fn read(&self, max_bytes: u32) -> Result<Vec<u8>, TlsError> {
        let mut connection = self.connection.borrow_mut();
        connection.process_new_packets().map_err(tls_error)?;
        let mut buffer = vec![0u8; max_bytes.min(MAX_TRANSFER_BYTES) as usize];
        let mut filled = 0;
        while filled < buffer.len() {
            match connection.reader().read(&mut buffer[filled..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => filled += n,
            }
        }
        buffer.truncate(filled);
        Ok(buffer)
    }

    fn status(&self) -> Result<Status, TlsError> {
        status_of(&mut self.connection.borrow_mut())
    }

    fn close(&self) {
        self.connection.borrow_mut().send_close_notify();
    }

    fn protocol_version(&self) -> Option<String> {
        match self.connection.borrow().protocol_version()? {
            ProtocolVersion::TLSv1_2 => Some("TLSv1.2".into()),
            ProtocolVersion::TLSv1_3 => Some("TLSv1.3".into()),
            other => Some(format!("{other:?}")),
        }
    }

    fn cipher_suite(&self) -> Option<String> {
        let suite = self.connection.borrow().negotiated_cipher_suite()?.suite();
        // rustls names TLS 1.3 suites TLS13_…; IANA names them TLS_… (the TLS 1.2 names already match).
        let name = suite.as_str()?;
        Some(match name.strip_prefix("TLS13_") {
            Some(rest) => format!("TLS_{rest}"),
            None => name.to_owned(),
        })
    }
}
