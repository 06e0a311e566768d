declare module 'ai-agent-sockets:tls/client@0.1.0' {
  /**
   * A client session for `server-name` (a DNS name or an IP address: SNI is sent for a name, and the
   * certificate must be valid for it), trusting Mozilla's roots and the certificates in `extra-roots-pem`
   * (PEM, possibly empty). The ClientHello waits in the outgoing bytes.
   */
  export function openSession(serverName: string, extraRootsPem: string): Session;
  /**
   * Reads the operator's PEM roots as `open-session` would: how many certificates, or what is wrong.
   */
  export function checkRoots(extraRootsPem: string): number;
  /**
   * What was wrong with the server's certificate (the chain was not accepted).
   */
  export type CertificateProblem = CertificateProblemUnknownIssuer | CertificateProblemSelfSigned | CertificateProblemNotValidForName | CertificateProblemExpired | CertificateProblemNotYetValid | CertificateProblemRevoked | CertificateProblemOther;
  /**
   * The chain does not lead to a trusted root (Mozilla's roots or the operator's).
   */
  export interface CertificateProblemUnknownIssuer {
    tag: 'unknown-issuer',
  }
  /**
   * The certificate is its own issuer and is not a trusted root.
   */
  export interface CertificateProblemSelfSigned {
    tag: 'self-signed',
  }
  /**
   * The certificate is not valid for the server name (DNS name or IP address) that was checked.
   */
  export interface CertificateProblemNotValidForName {
    tag: 'not-valid-for-name',
  }
  export interface CertificateProblemExpired {
    tag: 'expired',
  }
  export interface CertificateProblemNotYetValid {
    tag: 'not-yet-valid',
  }
  export interface CertificateProblemRevoked {
    tag: 'revoked',
  }
  /**
   * Anything else (bad encoding, bad signature, wrong purpose…), in words.
   */
  export interface CertificateProblemOther {
    tag: 'other',
    val: string,
  }
  /**
   * Why the handshake (or the session after it) failed, when it was not the certificate.
   */
  export type HandshakeProblem = HandshakeProblemPeerAlert | HandshakeProblemNoCommonVersion | HandshakeProblemNoCommonParameters | HandshakeProblemNotTls | HandshakeProblemOther;
  /**
   * The peer sent a fatal alert; its name as in the TLS registry (`handshake_failure`, `protocol_version`…).
   */
  export interface HandshakeProblemPeerAlert {
    tag: 'peer-alert',
    val: string,
  }
  /**
   * The peer offers no TLS 1.2 or 1.3.
   */
  export interface HandshakeProblemNoCommonVersion {
    tag: 'no-common-version',
  }
  /**
   * The peer and this client share no cipher suite, key exchange group or signature scheme.
   */
  export interface HandshakeProblemNoCommonParameters {
    tag: 'no-common-parameters',
    val: string,
  }
  /**
   * What the peer sent is not TLS, or a TLS message is malformed or out of place.
   */
  export interface HandshakeProblemNotTls {
    tag: 'not-tls',
    val: string,
  }
  export interface HandshakeProblemOther {
    tag: 'other',
    val: string,
  }
  export type TlsError = TlsErrorCertificate | TlsErrorHandshake;
  export interface TlsErrorCertificate {
    tag: 'certificate',
    val: CertificateProblem,
  }
  export interface TlsErrorHandshake {
    tag: 'handshake',
    val: HandshakeProblem,
  }
  /**
   * Why a session could not be set up.
   */
  export type SetupError = SetupErrorInvalidServerName | SetupErrorInvalidRoots;
  /**
   * The server name is neither a DNS name nor an IP address.
   */
  export interface SetupErrorInvalidServerName {
    tag: 'invalid-server-name',
    val: string,
  }
  /**
   * The operator's PEM roots could not be read.
   */
  export interface SetupErrorInvalidRoots {
    tag: 'invalid-roots',
    val: string,
  }
  /**
   * # Variants
   * 
   * ## `"handshaking"`
   * 
   * Handshake in progress: no plaintext flows yet (written plaintext waits for it).
   * ## `"established"`
   * 
   * Handshake done: plaintext flows both ways.
   * ## `"peer-closed"`
   * 
   * The peer sent close_notify: it sends no more plaintext.
   */
  export type SessionState = 'handshaking' | 'established' | 'peer-closed';
  /**
   * Where a session stands after a call: its state and how many bytes wait on each side.
   */
  export interface Status {
    state: SessionState,
    /**
     * Ciphertext waiting to be sent to the peer (`take-outgoing`).
     */
    outgoingBytes: number,
    /**
     * Plaintext received and waiting to be read (`read`).
     */
    plaintextBytes: number,
  }
  
  export class Session implements Disposable {
    /**
     * This type does not have a public constructor.
     */
    private constructor();
    /**
    * Hands in ciphertext received from the peer and processes every complete record. Takes fewer bytes
    * than given when received plaintext waits to be read; returns how many it took.
    */
    feed(ciphertext: Uint8Array): [number, Status];
    /**
    * Takes up to `max-bytes` of the ciphertext waiting to be sent (handshake messages, records, alerts).
    */
    takeOutgoing(maxBytes: number): Uint8Array;
    /**
    * Hands in plaintext to send; returns how many bytes were taken (bounded buffer; send and retry).
    */
    write(plaintext: Uint8Array): number;
    /**
    * Up to `max-bytes` of the plaintext received so far (possibly none).
    */
    read(maxBytes: number): Uint8Array;
    status(): Status;
    /**
    * Queues close_notify: this side sends no more plaintext.
    */
    close(): void;
    /**
    * The negotiated protocol version (`TLSv1.2`, `TLSv1.3`) once the handshake has chosen it.
    */
    protocolVersion(): string | undefined;
    /**
    * The negotiated cipher suite by its IANA name (`TLS_AES_128_GCM_SHA256`…).
    */
    cipherSuite(): string | undefined;
    [Symbol.dispose](): void;
  }
}
