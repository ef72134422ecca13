//! Upload locations a registry hands back stay on the registry: a path or the registry's own
//! name (reached through the endpoint) is followed with the credentials; another host is refused
//! before anything is sent to it. A scripted registry on loopback answers each request.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};

use strands_deploy::image::{Binary, ImageBuilder};
use strands_deploy::{Reference, Registry};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// A registry that answers every request with the next scripted head (status line and
/// headers), and records each request line with its Authorization header.
async fn scripted(answers: Vec<String>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        for answer in answers {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 65536];
            // Reads the head and whatever body arrives with it (bodies here are small).
            loop {
                let n = socket.read(&mut buf).await.unwrap();
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request);
                if let Some(head_end) = text.find("\r\n\r\n") {
                    let length: usize = text[..head_end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap())
                        })
                        .unwrap_or(0);
                    if request.len() >= head_end + 4 + length {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            let text = String::from_utf8_lossy(&request);
            let line = text.lines().next().unwrap_or_default().to_owned();
            let auth = text
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
                .unwrap_or("no authorization")
                .to_owned();
            log.lock().unwrap().push(format!("{line} | {auth}"));
            let reply = format!("{answer}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            socket.write_all(reply.as_bytes()).await.unwrap();
        }
    });
    (endpoint, seen)
}

fn image() -> strands_deploy::Image {
    let mut elf = vec![0u8; 64 + 56];
    elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
    elf[18..20].copy_from_slice(&0xB7u16.to_le_bytes());
    elf[32..40].copy_from_slice(&64u64.to_le_bytes());
    elf[54..56].copy_from_slice(&56u16.to_le_bytes());
    elf[56..58].copy_from_slice(&1u16.to_le_bytes());
    elf[64..68].copy_from_slice(&1u32.to_le_bytes());
    ImageBuilder::new()
        .binary(Binary::from_bytes(elf).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_location_on_another_host_is_refused_before_credentials_leave() {
    let (endpoint, seen) = scripted(vec![
        "HTTP/1.1 404 Not Found".to_owned(),
        "HTTP/1.1 202 Accepted\r\nlocation: http://elsewhere.example/v2/agent/blobs/uploads/1"
            .to_owned(),
    ])
    .await;
    let reference: Reference = "registry.example/agent:v1".parse().unwrap();
    let registry = Registry::new(&reference)
        .with_endpoint(&endpoint, &reference)
        .unwrap()
        .with_basic_auth("QVdTOnNlY3JldA==");
    let error = registry
        .push("agent", &image(), "v1")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("another host (elsewhere.example)"),
        "{error}"
    );
    assert!(!error.contains("QVdTOnNlY3JldA=="));
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "nothing after the refused location"
    );
}

#[tokio::test]
async fn the_registrys_own_name_in_a_location_is_reached_through_the_endpoint() {
    let (endpoint, seen) = scripted(vec![
        "HTTP/1.1 404 Not Found".to_owned(),
        "HTTP/1.1 202 Accepted\r\nlocation: https://registry.example/v2/agent/blobs/uploads/s1?state=a".to_owned(),
        "HTTP/1.1 202 Accepted\r\nlocation: /v2/agent/blobs/uploads/s1?state=b".to_owned(),
        "HTTP/1.1 500 Internal Server Error".to_owned(),
    ])
    .await;
    let reference: Reference = "registry.example/agent:v1".parse().unwrap();
    let registry = Registry::new(&reference)
        .with_endpoint(&endpoint, &reference)
        .unwrap()
        .with_basic_auth("QVdTOnNlY3JldA==");
    let _ = registry.push("agent", &image(), "v1").await;
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen[2].starts_with("PATCH /v2/agent/blobs/uploads/s1?state=a "),
        "{seen:?}"
    );
    assert!(
        seen[3].starts_with("PUT /v2/agent/blobs/uploads/s1?state=b&digest=sha256%3A"),
        "{seen:?}"
    );
    assert!(
        seen.iter().all(|s| s.ends_with("Basic QVdTOnNlY3JldA==")),
        "{seen:?}"
    );
    assert!(
        Registry::new(&reference)
            .with_endpoint("127.0.0.1:5000", &reference)
            .is_err()
    );
}
