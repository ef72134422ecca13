//! Raw-socket tests of the fake metadata service.

use strands_testkit::imds::{FakeImds, ImdsMode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A token request whose header section is far over the fake's 16 KiB limit.
fn oversized_request() -> Vec<u8> {
    let mut request = b"PUT /latest/api/token HTTP/1.1\r\nx-padding: ".to_vec();
    request.extend(std::iter::repeat_n(b'a', 70 * 1024));
    request.extend_from_slice(b"\r\n\r\n");
    request
}

#[tokio::test]
async fn refused_request_is_answered_then_drained_instead_of_reset() {
    let fake = FakeImds::start(ImdsMode::V2).await.unwrap();
    let address = fake.endpoint().trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(&oversized_request()).await.unwrap();

    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 431 "), "{response}");
    assert!(response.contains("connection: close\r\n"), "{response}");

    // The fake still reads (and discards) what the client sends after the answer, so the client
    // gets no reset whatever it was doing when the refusal came.
    for _ in 0..4 {
        stream.write_all(&[b'a'; 1024]).await.unwrap();
        tokio::task::yield_now().await;
    }
    stream.shutdown().await.unwrap();
    assert!(fake.requests().is_empty());
}
