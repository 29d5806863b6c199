//! `devbroker`: native development tools for mqdash, never compiled into the page.
//!
//! - `devbroker broker`: an embedded MQTT broker (rumqttd) on loopback, MQTT
//!   over TCP and over WebSocket at `/mqtt` (subprotocol `mqtt`).
//! - `devbroker simulate`: devices publishing live readings, JSON telemetry,
//!   OneNet `$dp` uploads, retained statuses and binary payloads.
//! - `devbroker loadgen`: a paced QoS 0/1 publisher for throughput tests.
//! - `devbroker proxy`: a fault-injecting WebSocket proxy (re-chunking,
//!   delays, cuts at chosen packets, blackholes) for reliability tests.
//! - `devbroker hostile`: a WebSocket server that misbehaves (garbage, text
//!   frames, no CONNACK, no PINGRESP, close after CONNACK, hostile packets).
//!
//! Errors go to stderr as one `devbroker: error: …` line and a non-zero exit
//! status; normal output (the ready line, summaries) goes to stdout.

/// `println!`/`eprintln!` that never panic: a closed pipe (the reader of our
/// output went away) must not bring the broker or the simulator down.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, $($arg)*);
        let _ = out.flush();
    }};
}

/// Like [`say!`], for stderr.
macro_rules! warn {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

mod broker;
mod hostile;
mod loadgen;
mod onenet;
mod proxy;
mod simulate;
mod target;
mod ws_front;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Command line of `devbroker`.
#[derive(Parser, Debug)]
#[command(
    name = "devbroker",
    version,
    about = "mqdash dev tools: embedded MQTT broker, device simulator, load generator"
)]
struct Cli {
    /// Log diagnostics (rumqttd's tracing output, WebSocket errors) to stderr.
    #[arg(long, short, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the embedded broker: MQTT over TCP and over WebSocket, loopback only by default.
    Broker(broker::BrokerArgs),
    /// Publish simulated device data to a broker.
    Simulate(simulate::SimulateArgs),
    /// Publish at a fixed rate over many topics and report the achieved rate as JSON.
    Loadgen(loadgen::LoadgenArgs),
    /// Forward MQTT over WebSocket to a broker, injecting faults (re-chunking, delays, cuts, blackholes).
    Proxy(proxy::ProxyArgs),
    /// Accept MQTT over WebSocket and misbehave in one chosen way.
    Hostile(hostile::HostileArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.verbose {
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            warn!("devbroker: error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let verbose = cli.verbose;
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Broker(args) => broker::run(args, verbose).await,
            Command::Simulate(args) => simulate::run(args).await,
            Command::Loadgen(args) => loadgen::run(args).await,
            Command::Proxy(args) => proxy::run(args).await,
            Command::Hostile(args) => hostile::run(args).await,
        }
    });
    // rumqttd's threads and open sockets are not waited for.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            warn!("devbroker: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM, naming the signal.
pub async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).ok();
        let terminated = async {
            match term.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => "interrupted",
            _ = terminated => "terminated",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "interrupted"
    }
}
