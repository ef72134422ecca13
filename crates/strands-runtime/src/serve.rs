//! One call to serve an [`AgentCoreApp`] the way the `strands-runtime` binary does: the listen
//! address and limits from the environment, the logger, `TCP_NODELAY`, and a graceful shutdown
//! on SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::app::{AgentCoreApp, DEFAULT_BODY_READ_TIMEOUT, DEFAULT_MAX_BODY_BYTES_IN_FLIGHT};
use crate::logging;
use crate::server::{
    DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_SHUTDOWN_GRACE, Server,
};

/// Serves `app` until SIGTERM or Ctrl-C, exactly as the `strands-runtime` binary serves its
/// agent: the logger from `LOG_LEVEL` and `LOG_FORMAT` (unless the program installed one), the
/// address and limits from [`ServeConfig::from_env`], then a [`Server`] with a graceful
/// shutdown. AgentCore sends SIGTERM, then SIGKILL 30 s later.
///
/// ```no_run
/// use strands_runtime::prelude::*;
///
/// #[tokio::main]
/// async fn main() -> Result<(), ServeError> {
///     AgentCoreApp::new()
///         .entrypoint(|payload: Value, _context: RequestContext| async move {
///             Ok::<_, HandlerError>(json!({"echo": payload}))
///         })
///         .serve()
///         .await
/// }
/// ```
///
/// # Errors
///
/// An environment variable with a value that is not valid for it, an address that cannot be
/// listened on, or a fatal server error; each message names what to change.
pub async fn serve(app: AgentCoreApp) -> Result<(), ServeError> {
    // A program that installed its own subscriber keeps it.
    let _ = logging::init_from_env();
    let port = app.default_port();
    let config = ServeConfig::from_vars(|name| match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => Some(value),
        _ if name == "PORT" => Some(port.to_string()),
        _ => None,
    })?;
    let listener = config.bind().await?;
    config.serve(app, listener, shutdown_signal()).await
}

impl AgentCoreApp {
    /// Serves this app until SIGTERM or Ctrl-C, as the `strands-runtime` binary serves its
    /// agent: see [`serve`](crate::serve()).
    ///
    /// # Errors
    ///
    /// As [`serve`](crate::serve()).
    pub async fn serve(self) -> Result<(), ServeError> {
        serve(self).await
    }
}

/// Where and how [`serve`] serves: the listen address and the connection limits. The binary
/// reads the same variables.
///
/// | Variable | Field | Default |
/// |---|---|---|
/// | `HOST`, `PORT` | `host`, `port` | `0.0.0.0`, `8080` |
/// | `IDLE_TIMEOUT_SECONDS` | `idle_timeout` | 5 s |
/// | `HEADER_READ_TIMEOUT_SECONDS` | `header_read_timeout` | 30 s |
/// | `BODY_READ_TIMEOUT_SECONDS` | `body_read_timeout` | 60 s |
/// | `MAX_BODY_BYTES_IN_FLIGHT` | `max_body_bytes_in_flight` | 256 MiB |
/// | `SHUTDOWN_GRACE_SECONDS` | `shutdown_grace` | 25 s |
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeConfig {
    /// The address to listen on: an IP address.
    pub host: String,
    /// The port to listen on.
    pub port: u16,
    /// See [`Server::idle_timeout`].
    pub idle_timeout: Duration,
    /// See [`Server::header_read_timeout`].
    pub header_read_timeout: Duration,
    /// See [`AgentCoreApp::body_read_timeout`].
    pub body_read_timeout: Duration,
    /// See [`AgentCoreApp::max_body_bytes_in_flight`].
    pub max_body_bytes_in_flight: usize,
    /// See [`Server::shutdown_grace`].
    pub shutdown_grace: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            host: "0.0.0.0".to_owned(),
            port: 8080,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            max_body_bytes_in_flight: DEFAULT_MAX_BODY_BYTES_IN_FLIGHT,
            shutdown_grace: DEFAULT_SHUTDOWN_GRACE,
        }
    }
}

/// The environment variables [`ServeConfig::from_env`] reads, with what each sets.
pub const SERVE_ENVIRONMENT: [(&str, &str); 7] = [
    ("HOST", "the IP address to listen on (default 0.0.0.0)"),
    ("PORT", "the port to listen on (default 8080)"),
    (
        "IDLE_TIMEOUT_SECONDS",
        "a connection with no request in progress closes after this (default 5)",
    ),
    (
        "HEADER_READ_TIMEOUT_SECONDS",
        "a request's headers must arrive within this (default 30)",
    ),
    (
        "BODY_READ_TIMEOUT_SECONDS",
        "a request body must arrive within this, else 408 (default 60)",
    ),
    (
        "MAX_BODY_BYTES_IN_FLIGHT",
        "request-body bytes held at once across requests (default 268435456)",
    ),
    (
        "SHUTDOWN_GRACE_SECONDS",
        "on SIGTERM, in-flight requests get this long to finish (default 25)",
    ),
];

impl ServeConfig {
    /// The defaults, overridden by the variables of [`SERVE_ENVIRONMENT`] that are set and not
    /// blank.
    ///
    /// # Errors
    ///
    /// A variable whose value does not parse (a port that is not a number, a timeout that is
    /// not whole seconds), named with the value expected.
    pub fn from_env() -> Result<Self, ServeError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) over any source of variables (a test's map, say).
    ///
    /// # Errors
    ///
    /// As [`from_env`](Self::from_env).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ServeError> {
        let vars = Vars(&var);
        let defaults = Self::default();
        Ok(Self {
            host: vars.get("HOST").unwrap_or(defaults.host),
            port: vars
                .parse("PORT", "a port number (0-65535)")?
                .unwrap_or(defaults.port),
            idle_timeout: vars
                .seconds("IDLE_TIMEOUT_SECONDS")?
                .unwrap_or(defaults.idle_timeout),
            header_read_timeout: vars
                .seconds("HEADER_READ_TIMEOUT_SECONDS")?
                .unwrap_or(defaults.header_read_timeout),
            body_read_timeout: vars
                .seconds("BODY_READ_TIMEOUT_SECONDS")?
                .unwrap_or(defaults.body_read_timeout),
            max_body_bytes_in_flight: vars
                .parse("MAX_BODY_BYTES_IN_FLIGHT", "a number of bytes")?
                .unwrap_or(defaults.max_body_bytes_in_flight),
            shutdown_grace: vars
                .seconds("SHUTDOWN_GRACE_SECONDS")?
                .unwrap_or(defaults.shutdown_grace),
        })
    }

    /// The socket address of `host` and `port`.
    ///
    /// # Errors
    ///
    /// A host that is not an IP address.
    pub fn address(&self) -> Result<SocketAddr, ServeError> {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host.parse::<std::net::IpAddr>()
            .map(|ip| SocketAddr::new(ip, self.port))
            .map_err(|_| ServeError::InvalidVariable {
                name: "HOST",
                value: logging::Bounded(&self.host).to_string(),
                expected: "an IP address such as 0.0.0.0 or ::",
            })
    }

    /// Listens on [`address`](Self::address). Bind before building anything slow (a model
    /// client) so `/ping` answers early.
    ///
    /// # Errors
    ///
    /// An invalid host, or an address already in use or not allowed.
    pub async fn bind(&self) -> Result<TcpListener, ServeError> {
        let address = self.address()?;
        TcpListener::bind(address)
            .await
            .map_err(|source| ServeError::Bind { address, source })
    }

    /// Serves `app` on `listener` with these limits until `shutdown` resolves: what [`serve`]
    /// and the binary do once the listener is bound.
    ///
    /// # Errors
    ///
    /// A fatal server error.
    pub async fn serve(
        &self,
        app: AgentCoreApp,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), ServeError> {
        if let Ok(address) = listener.local_addr() {
            tracing::info!("Listening on {address}");
        }
        self.server(app)
            .serve(listener, shutdown)
            .await
            .map_err(ServeError::Serve)
    }

    /// A [`Server`] for `app` with these limits.
    pub fn server(&self, app: AgentCoreApp) -> Server {
        let app = if self.address().is_ok_and(|a| a.ip().is_loopback()) {
            app.loopback()
        } else {
            app
        };
        let app = app
            .body_read_timeout(self.body_read_timeout)
            .max_body_bytes_in_flight(self.max_body_bytes_in_flight);
        Server::new(app)
            .idle_timeout(self.idle_timeout)
            .header_read_timeout(self.header_read_timeout)
            .shutdown_grace(self.shutdown_grace)
    }
}

/// Reads variables, treating blank values as unset.
struct Vars<'a, F>(&'a F);

impl<F: Fn(&str) -> Option<String>> Vars<'_, F> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    fn parse<T: std::str::FromStr>(
        &self,
        name: &'static str,
        expected: &'static str,
    ) -> Result<Option<T>, ServeError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        value
            .parse()
            .map(Some)
            .map_err(|_| ServeError::InvalidVariable {
                name,
                value: logging::Bounded(&value).to_string(),
                expected,
            })
    }

    fn seconds(&self, name: &'static str) -> Result<Option<Duration>, ServeError> {
        Ok(self
            .parse(name, "a whole number of seconds")?
            .map(Duration::from_secs))
    }
}

/// Why [`serve`] could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// An environment variable holds a value that is not valid for it.
    #[error("{name}={value:?} is not valid: set it to {expected}")]
    InvalidVariable {
        /// The variable.
        name: &'static str,
        /// Its value (at most 256 bytes of it).
        value: String,
        /// What it should hold.
        expected: &'static str,
    },
    /// The address could not be listened on.
    #[error(
        "could not listen on {address}: {source}; is another process using the port? set PORT to change it"
    )]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server stopped with an error.
    #[error("the server stopped with an error: {0}")]
    Serve(#[source] std::io::Error),
}

/// Resolves on SIGTERM (what AgentCore sends before stopping a microVM) or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<ServeConfig, ServeError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ServeConfig::from_vars(|name| vars.get(name).cloned())
    }

    #[test]
    fn unset_and_blank_variables_keep_the_defaults() {
        assert_eq!(config(&[]).ok(), Some(ServeConfig::default()));
        assert_eq!(
            config(&[("PORT", " "), ("HOST", "")]).ok(),
            Some(ServeConfig::default())
        );
    }

    #[test]
    fn every_variable_is_read() {
        let read = config(&[
            ("HOST", "127.0.0.1"),
            ("PORT", " 9001 "),
            ("IDLE_TIMEOUT_SECONDS", "7"),
            ("HEADER_READ_TIMEOUT_SECONDS", "8"),
            ("BODY_READ_TIMEOUT_SECONDS", "9"),
            ("MAX_BODY_BYTES_IN_FLIGHT", "1024"),
            ("SHUTDOWN_GRACE_SECONDS", "3"),
        ]);
        let expected = ServeConfig {
            host: "127.0.0.1".to_owned(),
            port: 9001,
            idle_timeout: Duration::from_secs(7),
            header_read_timeout: Duration::from_secs(8),
            body_read_timeout: Duration::from_secs(9),
            max_body_bytes_in_flight: 1024,
            shutdown_grace: Duration::from_secs(3),
        };
        assert_eq!(read.ok(), Some(expected));
        for (name, _) in SERVE_ENVIRONMENT {
            assert!(config(&[(name, "not-a-number")]).is_err() || name == "HOST");
        }
    }

    #[test]
    fn bad_values_name_the_variable_and_the_fix() {
        let error = config(&[("PORT", "80a")]).err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some(r#"PORT="80a" is not valid: set it to a port number (0-65535)"#)
        );
        let error = config(&[("SHUTDOWN_GRACE_SECONDS", "2.5")])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some(
                r#"SHUTDOWN_GRACE_SECONDS="2.5" is not valid: set it to a whole number of seconds"#
            )
        );
        let host = config(&[("HOST", "localhost")]).map(|c| c.address());
        assert!(matches!(
            host,
            Ok(Err(ServeError::InvalidVariable { name: "HOST", .. }))
        ));
        let v6 = config(&[("HOST", "[::1]"), ("PORT", "1")]).map(|c| c.address().ok());
        assert_eq!(v6.ok().flatten(), "[::1]:1".parse().ok());
    }

    #[test]
    fn long_values_are_cut_in_errors() {
        let long = "9".repeat(10_000);
        let error = config(&[("PORT", &long)]).err().map(|e| e.to_string());
        assert!(error.is_some_and(|e| e.len() < 400));
    }
}
