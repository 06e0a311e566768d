//! The TLS engine component: rustls behind the `ai-agent-sockets:tls/client` interface (wit/deps/tls-0.1.0).
//! It touches no socket; the TypeScript side moves the bytes and keeps every deadline and limit.

mod der;
mod errors;
mod roots;
mod session;

#[cfg(test)]
mod tests;

pub(crate) mod bindings {
    wit_bindgen::generate!({
        path: "../wit/deps/tls-0.1.0",
        world: "engine",
    });
}

use bindings::exports::ai_agent_sockets::tls::client::{self, Guest};

struct Engine;

impl Guest for Engine {
    type Session = session::Session;

    fn open_session(server_name: String, extra_roots_pem: String) -> Result<client::Session, client::SetupError> {
        session::Session::open(&server_name, &extra_roots_pem).map(client::Session::new)
    }

    fn check_roots(extra_roots_pem: String) -> Result<u32, String> {
        let mut store = rustls::RootCertStore::empty();
        roots::add_pem_roots(&mut store, &extra_roots_pem)
    }
}

bindings::export!(Engine with_types_in bindings);
