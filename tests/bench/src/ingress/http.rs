//! The load generator's HTTP/1.1 client: one keep-alive connection, one request at a time,
//! every request prebuilt (headers, signature and body in one buffer) so that sending costs a
//! single `write` and the generator stays far from being the bottleneck. Only what the
//! ingress answers needs to be understood: a status line, `Content-Length`, `Retry-After` and
//! `Connection: close`.

use std::io;
use std::sync::Arc;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::load::Target;

/// `sha256=<hex>` of `body` under `secret`, as Jira signs `X-Hub-Signature`.
pub fn sign(secret: &str, body: &[u8]) -> anyhow::Result<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .map_err(|e| anyhow::anyhow!("HMAC key: {e}"))?;
    mac.update(body);
    Ok(format!(
        "sha256={}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

/// The bytes of one signed `POST /webhooks/jira/{endpoint}`, as Jira Cloud sends it.
pub fn webhook_request(
    port: u16,
    endpoint: &str,
    secret: &str,
    body: &[u8],
) -> anyhow::Result<Vec<u8>> {
    let signature = sign(secret, body)?;
    let mut request = format!(
        "POST /webhooks/jira/{endpoint} HTTP/1.1\r\n\
         Host: 127.0.0.1:{port}\r\n\
         User-Agent: Atlassian Webhook HTTP Client\r\n\
         Content-Type: application/json; charset=utf-8\r\n\
         X-Hub-Signature: {signature}\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    Ok(request)
}

/// What the generator needs to know of a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    /// A `Retry-After` header was present.
    pub retry_after: bool,
    /// The body says `"status":"accepted"` (a 202 for a published webhook, not an ignored one).
    pub accepted: bool,
}

/// One keep-alive connection to the ingress.
pub struct Conn {
    port: u16,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

impl Conn {
    pub fn new(port: u16) -> Self {
        Self {
            port,
            stream: None,
            buf: Vec::with_capacity(4096),
        }
    }

    /// Connects now rather than on the first request.
    pub async fn connect(&mut self) -> io::Result<()> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(("127.0.0.1", self.port)).await?;
            stream.set_nodelay(true)?;
            self.stream = Some(stream);
        }
        Ok(())
    }

    /// Sends one prebuilt request and reads its response. On an I/O error the connection is
    /// dropped (the next call reconnects) and the error returned.
    pub async fn send(&mut self, request: &[u8]) -> io::Result<Reply> {
        let result = self.exchange(request).await;
        if result.is_err() {
            self.stream = None;
        }
        result
    }

    async fn exchange(&mut self, request: &[u8]) -> io::Result<Reply> {
        self.connect().await?;
        let stream = self.stream.as_mut().ok_or(io::ErrorKind::NotConnected)?;
        stream.write_all(request).await?;
        self.buf.clear();
        let head_end = loop {
            if let Some(at) = find(&self.buf, b"\r\n\r\n") {
                break at + 4;
            }
            read_more(stream, &mut self.buf).await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end])
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "response head"))?;
        let status: u16 = head
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "status line"))?;
        let mut length = 0usize;
        let mut retry_after = false;
        let mut close = false;
        for line in head.split("\r\n").skip(1) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value
                    .parse()
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "content-length"))?;
            } else if name.eq_ignore_ascii_case("retry-after") {
                retry_after = !value.is_empty();
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "chunked responses are not expected from the ingress",
                ));
            }
        }
        while self.buf.len() < head_end + length {
            read_more(stream, &mut self.buf).await?;
        }
        let body = &self.buf[head_end..head_end + length];
        let accepted = find(body, b"\"accepted\"").is_some();
        if close {
            self.stream = None;
        }
        Ok(Reply {
            status,
            retry_after,
            accepted,
        })
    }
}

/// One connection of the load generator, sending the prebuilt `requests` round robin.
pub struct IngressTarget {
    pub conn: Conn,
    pub requests: Arc<Vec<Vec<u8>>>,
}

impl Target for IngressTarget {
    async fn prepare(&mut self) -> io::Result<()> {
        self.conn.connect().await
    }

    async fn send(&mut self, i: usize) -> io::Result<Reply> {
        let request = &self.requests[i % self.requests.len()];
        self.conn.send(request).await
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut chunk = [0u8; 4096];
    let n = stream.read(&mut chunk).await?;
    if n == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_jiras_hmac_sha256_in_hex() {
        // RFC 4231 test case 2.
        let signature = sign("Jefe", b"what do ya want for nothing?").unwrap();
        assert_eq!(
            signature,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn a_request_carries_its_length_and_signature() {
        let request = webhook_request(8080, "jira-a", "s", b"{}").unwrap();
        let text = String::from_utf8(request).unwrap();
        assert!(text.starts_with("POST /webhooks/jira/jira-a HTTP/1.1\r\n"));
        assert!(text.contains("Content-Length: 2\r\n"));
        assert!(text.contains("X-Hub-Signature: sha256="));
        assert!(text.ends_with("\r\n\r\n{}"));
    }
}
