//! Just enough DER to compare a certificate's issuer with its subject (to tell a self-signed certificate from
//! one whose issuer is unknown). Every read is bounds-checked: a malformed certificate yields `None`.

/// One DER element: its tag, the whole encoding, and what follows it.
struct Element<'a> {
    tag: u8,
    whole: &'a [u8],
    content: &'a [u8],
    rest: &'a [u8],
}

fn element(input: &[u8]) -> Option<Element<'_>> {
    let tag = *input.first()?;
    let first = *input.get(1)? as usize;
    let (len, header) = if first < 0x80 {
        (first, 2)
    } else {
        // Long form: the next `count` bytes hold the length; four are plenty for a certificate.
        let count = first & 0x7f;
        if count == 0 || count > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..count {
            len = (len << 8) | *input.get(2 + i)? as usize;
        }
        (len, 2 + count)
    };
    let end = header.checked_add(len)?;
    Some(Element {
        tag,
        whole: input.get(..end)?,
        content: input.get(header..end)?,
        rest: input.get(end..)?,
    })
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const EXPLICIT_VERSION: u8 = 0xa0;

/// The DER of the issuer and subject names of an X.509 certificate.
fn issuer_and_subject(cert: &[u8]) -> Option<(&[u8], &[u8])> {
    let certificate = element(cert).filter(|e| e.tag == SEQUENCE)?;
    let tbs = element(certificate.content).filter(|e| e.tag == SEQUENCE)?;
    let mut field = element(tbs.content)?;
    if field.tag == EXPLICIT_VERSION {
        field = element(field.rest)?;
    }
    let serial = Some(field).filter(|e| e.tag == INTEGER)?;
    let signature = element(serial.rest).filter(|e| e.tag == SEQUENCE)?;
    let issuer = element(signature.rest).filter(|e| e.tag == SEQUENCE)?;
    let validity = element(issuer.rest).filter(|e| e.tag == SEQUENCE)?;
    let subject = element(validity.rest).filter(|e| e.tag == SEQUENCE)?;
    Some((issuer.whole, subject.whole))
}

/// Whether the certificate names itself as its issuer (false when it cannot be read).
pub fn is_self_issued(cert: &[u8]) -> bool {
    matches!(issuer_and_subject(cert), Some((issuer, subject)) if issuer == subject)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_input_is_not_self_issued() {
        for input in [&[][..], &[0x30], &[0x30, 0x85, 1, 1, 1, 1, 1], &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff], &[0x30, 0x02, 0x30, 0x00]] {
            assert!(!is_self_issued(input));
        }
    }

    #[test]
    fn a_truncated_certificate_is_not_self_issued() {
        let cert = crate::tests::self_signed_der();
        assert!(is_self_issued(&cert));
        for len in 0..cert.len() {
            assert!(!is_self_issued(&cert[..len]), "prefix {len}");
        }
    }
}
