//! A misbehaving web server on loopback, written on raw TCP so that it can
//! do what no well-behaved framework lets it: trickle a body one byte a
//! second, never end one, lie in `Content-Length`, reset the connection,
//! redirect forever, rate-limit every request. Each path gets one
//! [`Behaviour`]; requests are counted per path.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server does at one path.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// 200 with a body of a content type (and extra header lines).
    Ok(&'static str, Vec<u8>, Vec<String>),
    /// 200 with an image, after a pause (a slow but honest host).
    Delayed(Duration, Vec<u8>),
    /// Headers at once, then one byte of a JPEG a second, forever.
    SlowLoris,
    /// A 200 image body without a length that never ends.
    Endless,
    /// Claims `Content-Length: claimed` and sends `sent` bytes, then closes.
    WrongLength {
        /// The announced length.
        claimed: usize,
        /// The bytes actually sent.
        sent: Vec<u8>,
    },
    /// Closes the connection with a TCP reset before answering.
    Reset,
    /// `302` back to itself.
    RedirectLoop,
    /// `302` to this URL.
    RedirectTo(String),
    /// Always this status, with `Retry-After` seconds when given.
    Status(u16, Option<u32>),
    /// `fails` answers of `status` first, then 200 with the image.
    Flaky {
        /// How many failing answers.
        fails: usize,
        /// Their status.
        status: u16,
        /// The image served afterwards.
        body: Vec<u8>,
    },
}

#[derive(Default)]
struct Table {
    routes: HashMap<String, Behaviour>,
    hits: HashMap<String, usize>,
}

/// The running server.
#[derive(Clone)]
pub struct HostileHost {
    /// Where it listens.
    pub addr: SocketAddr,
    table: Arc<Mutex<Table>>,
}

impl HostileHost {
    /// Starts a server with no routes (everything is 404).
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let table = Arc::new(Mutex::new(Table::default()));
        let shared = table.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(handle(stream, shared.clone(), addr));
            }
        });
        Self { addr, table }
    }

    /// `http://127.0.0.1:PORT` + path.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sets the behaviour at `path`.
    pub fn put(&self, path: &str, behaviour: Behaviour) {
        let mut table = self.table.lock().unwrap();
        table.routes.insert(path.to_string(), behaviour);
    }

    /// Requests that reached `path`.
    pub fn hits(&self, path: &str) -> usize {
        let table = self.table.lock().unwrap();
        table.hits.get(path).copied().unwrap_or(0)
    }
}

/// Reads the request head; returns its path.
async fn read_path(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 || head.len() > 64 * 1024 {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head).lines().next()?.to_string();
    let target = line.split_whitespace().nth(1)?;
    Some(target.split('?').next().unwrap_or(target).to_string())
}

async fn handle(mut stream: TcpStream, table: Arc<Mutex<Table>>, addr: SocketAddr) {
    let Some(path) = read_path(&mut stream).await else {
        return;
    };
    let (behaviour, hit) = {
        let mut table = table.lock().unwrap();
        let hits = table.hits.entry(path.clone()).or_default();
        *hits += 1;
        let hit = *hits;
        (table.routes.get(&path).cloned(), hit)
    };
    let Some(behaviour) = behaviour else {
        let _ = respond(&mut stream, 404, "text/plain", &[], b"").await;
        return;
    };
    let _ = act(&mut stream, behaviour, hit, &path, addr).await;
}

async fn respond(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    extra: &[String],
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for line in extra {
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await
}

async fn act(
    stream: &mut TcpStream,
    behaviour: Behaviour,
    hit: usize,
    path: &str,
    addr: SocketAddr,
) -> std::io::Result<()> {
    match behaviour {
        Behaviour::Ok(content_type, body, extra) => {
            respond(stream, 200, content_type, &extra, &body).await
        }
        Behaviour::Delayed(pause, body) => {
            tokio::time::sleep(pause).await;
            respond(stream, 200, "image/jpeg", &[], &body).await
        }
        Behaviour::SlowLoris => {
            let head =
                "HTTP/1.1 200 OK\r\ncontent-type: image/jpeg\r\ncontent-length: 100000\r\n\r\n";
            stream.write_all(head.as_bytes()).await?;
            for byte in super::images::jpeg(32, 32, 1).iter().cycle() {
                stream.write_all(&[*byte]).await?;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Ok(())
        }
        Behaviour::Endless => {
            let head = "HTTP/1.1 200 OK\r\ncontent-type: image/jpeg\r\nconnection: close\r\n\r\n";
            stream.write_all(head.as_bytes()).await?;
            let chunk = vec![0xAB_u8; 64 * 1024];
            stream.write_all(&super::images::jpeg(32, 32, 2)).await?;
            loop {
                stream.write_all(&chunk).await?;
            }
        }
        Behaviour::WrongLength { claimed, sent } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: image/jpeg\r\ncontent-length: {claimed}\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(&sent).await?;
            stream.flush().await
        }
        Behaviour::Reset => {
            // Linger 0 never blocks: the socket is reset at once on drop.
            #[allow(deprecated)]
            stream.set_linger(Some(Duration::ZERO))?;
            Ok(()) // dropping with linger 0 sends RST
        }
        Behaviour::RedirectLoop => {
            let location = format!("location: http://{addr}{path}");
            respond(stream, 302, "text/plain", &[location], b"").await
        }
        Behaviour::RedirectTo(target) => {
            respond(
                stream,
                302,
                "text/plain",
                &[format!("location: {target}")],
                b"",
            )
            .await
        }
        Behaviour::Status(code, retry_after) => {
            let extra: Vec<String> = retry_after
                .map(|s| format!("retry-after: {s}"))
                .into_iter()
                .collect();
            respond(stream, code, "text/plain", &extra, b"busy").await
        }
        Behaviour::Flaky {
            fails,
            status,
            body,
        } if hit <= fails => {
            let _ = body;
            respond(stream, status, "text/plain", &[], b"try later").await
        }
        Behaviour::Flaky { body, .. } => respond(stream, 200, "image/jpeg", &[], &body).await,
    }
}
