//! Integration tests of the transport stack: scripted wires on a paused
//! clock for timing, real servers on 127.0.0.1 for redirects, plain HTTP and TLS.

mod auth;
mod fuzz;
mod metrics;
mod rate_limit;
mod redirect;
mod retry;
mod secrets;
mod sim;
mod stall;
mod support;
mod tls;
