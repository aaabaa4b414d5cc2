//! What a load worker records: latency histograms (corrected and uncorrected), a per-second
//! timeline, status and error counts. Each worker owns one; they merge exactly at the end.

use hdrhistogram::Histogram;
use serde::Serialize;

/// Highest latency tracked exactly: one hour, in microseconds. Larger values are clamped.
pub const MAX_LATENCY_US: u64 = 3_600_000_000;

/// Kinds of failed request. A failed request is data: it is counted, never propagated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum ErrorKind {
    /// The connection could not be opened.
    Connect = 0,
    /// No complete answer within the per-request timeout.
    Timeout = 1,
    /// The connection was reset or closed before the answer was complete.
    Reset = 2,
    /// The answer was not valid HTTP/1.1.
    Protocol = 3,
    /// The answer had a 5xx status (also counted under its status code).
    Status = 4,
}

impl ErrorKind {
    /// Every kind, in index order.
    pub const ALL: [ErrorKind; 5] = [
        ErrorKind::Connect,
        ErrorKind::Timeout,
        ErrorKind::Reset,
        ErrorKind::Protocol,
        ErrorKind::Status,
    ];

    /// The name used in output.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Reset => "reset",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Status => "status",
        }
    }
}

/// One second of the run.
#[derive(Debug, Clone)]
pub struct Second {
    /// Responses received in this second.
    pub responses: u64,
    /// Failed requests in this second (all kinds).
    pub errors: u64,
    /// Corrected latency of the responses of this second (2 significant digits).
    pub latency_us: Histogram<u64>,
}

impl Second {
    fn new() -> Self {
        Self {
            responses: 0,
            errors: 0,
            latency_us: Histogram::new_with_bounds(1, MAX_LATENCY_US, 2).expect("static bounds"),
        }
    }
}

/// A worker's record of everything it saw; [`Recorder::merge`] combines workers exactly.
#[derive(Debug, Clone)]
pub struct Recorder {
    /// Latency from the intended send time (equal to the actual send time in closed loop).
    pub latency_us: Histogram<u64>,
    /// Latency from the moment the request was actually written.
    pub latency_uncorrected_us: Histogram<u64>,
    /// Requests still unanswered when the window closed: the time from each one's intended
    /// send time (its send time in closed loop) to the close, a lower bound of its latency.
    /// Not in the latency histograms.
    pub unanswered_us: Histogram<u64>,
    /// Per-second counts, indexed by whole seconds since the start.
    pub timeline: Vec<Second>,
    /// Response counts by status code (index = code, 0..1000).
    pub status: Vec<u64>,
    /// Failed requests by [`ErrorKind`] index.
    pub errors: [u64; ErrorKind::ALL.len()],
    /// Requests whose intended send time passed while their connection was still busy.
    pub late_sends: u64,
    /// Requests written.
    pub sent: u64,
    /// Response bytes read.
    pub bytes_read: u64,
    /// Request bytes written.
    pub bytes_written: u64,
    /// Connections opened (first connects and reconnects).
    pub connects: u64,
    /// WebSocket messages answered: echoes back, or room deliveries (see `load::ws`). They
    /// count as answers beside the HTTP responses in [`Recorder::responses`].
    pub messages: u64,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    /// An empty recorder.
    pub fn new() -> Self {
        let hist = || Histogram::new_with_bounds(1, MAX_LATENCY_US, 3).expect("static bounds");
        Self {
            latency_us: hist(),
            latency_uncorrected_us: hist(),
            unanswered_us: hist(),
            timeline: Vec::new(),
            status: vec![0; 1000],
            errors: [0; ErrorKind::ALL.len()],
            late_sends: 0,
            sent: 0,
            bytes_read: 0,
            bytes_written: 0,
            connects: 0,
            messages: 0,
        }
    }

    fn second(&mut self, second: usize) -> &mut Second {
        if self.timeline.len() <= second {
            self.timeline.resize_with(second + 1, Second::new);
        }
        &mut self.timeline[second]
    }

    /// Records a complete response.
    #[inline]
    pub fn record_response(
        &mut self,
        second: usize,
        status: u16,
        latency_us: u64,
        uncorrected_us: u64,
    ) {
        let latency_us = latency_us.max(1);
        self.latency_us.saturating_record(latency_us);
        self.latency_uncorrected_us
            .saturating_record(uncorrected_us.max(1));
        self.status[usize::from(status).min(999)] += 1;
        let is_5xx = (500..600).contains(&status);
        if is_5xx {
            self.errors[ErrorKind::Status as usize] += 1;
        }
        let sec = self.second(second);
        sec.responses += 1;
        sec.errors += u64::from(is_5xx);
        sec.latency_us.saturating_record(latency_us);
    }

    /// Records a WebSocket message answered (an echo back, or one room delivery).
    #[inline]
    pub fn record_message(&mut self, second: usize, latency_us: u64, uncorrected_us: u64) {
        let latency_us = latency_us.max(1);
        self.latency_us.saturating_record(latency_us);
        self.latency_uncorrected_us
            .saturating_record(uncorrected_us.max(1));
        self.messages += 1;
        let sec = self.second(second);
        sec.responses += 1;
        sec.latency_us.saturating_record(latency_us);
    }

    /// Records a request given up after the timeout: an error that also enters the latency
    /// histograms at the time it was given up, a lower bound of its real latency.
    pub fn record_timeout(&mut self, second: usize, latency_us: u64, uncorrected_us: u64) {
        self.latency_us.saturating_record(latency_us.max(1));
        self.latency_uncorrected_us
            .saturating_record(uncorrected_us.max(1));
        self.record_error(second, ErrorKind::Timeout);
        self.second(second)
            .latency_us
            .saturating_record(latency_us.max(1));
    }

    /// Records a request still unanswered when the window closed, `elapsed_us` after its
    /// intended send time.
    pub fn record_unanswered(&mut self, elapsed_us: u64) {
        self.unanswered_us.saturating_record(elapsed_us.max(1));
    }

    /// Requests still unanswered when the window closed.
    pub fn unanswered(&self) -> u64 {
        self.unanswered_us.len()
    }

    /// Records a failed request of any kind but timeout.
    pub fn record_error(&mut self, second: usize, kind: ErrorKind) {
        self.errors[kind as usize] += 1;
        self.second(second).errors += 1;
    }

    /// Answers received: HTTP responses (any status) and WebSocket messages.
    pub fn responses(&self) -> u64 {
        self.status.iter().sum::<u64>() + self.messages
    }

    /// Failed requests of all kinds.
    pub fn error_count(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// Adds `other` into `self`. Histograms merge exactly.
    pub fn merge(&mut self, other: &Recorder) {
        self.latency_us.add(&other.latency_us).expect("same bounds");
        self.latency_uncorrected_us
            .add(&other.latency_uncorrected_us)
            .expect("same bounds");
        self.unanswered_us
            .add(&other.unanswered_us)
            .expect("same bounds");
        for (i, sec) in other.timeline.iter().enumerate() {
            let mine = self.second(i);
            mine.responses += sec.responses;
            mine.errors += sec.errors;
            mine.latency_us.add(&sec.latency_us).expect("same bounds");
        }
        for (a, b) in self.status.iter_mut().zip(&other.status) {
            *a += b;
        }
        for (a, b) in self.errors.iter_mut().zip(&other.errors) {
            *a += b;
        }
        self.late_sends += other.late_sends;
        self.sent += other.sent;
        self.bytes_read += other.bytes_read;
        self.bytes_written += other.bytes_written;
        self.connects += other.connects;
        self.messages += other.messages;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_is_exact() {
        let mut a = Recorder::new();
        let mut b = Recorder::new();
        for i in 1..=1000u64 {
            a.record_response(0, 200, i, i);
            b.record_response(2, 503, 1000 + i, 1000 + i);
        }
        b.record_timeout(2, 5_000_000, 5_000_000);
        b.record_unanswered(7_000);
        a.record_unanswered(0);
        a.merge(&b);
        assert_eq!(a.responses(), 2000);
        assert_eq!(a.status[200], 1000);
        assert_eq!(a.status[503], 1000);
        assert_eq!(a.errors[ErrorKind::Status as usize], 1000);
        assert_eq!(a.errors[ErrorKind::Timeout as usize], 1);
        assert_eq!(a.timeline.len(), 3);
        assert_eq!(a.timeline[1].responses, 0);
        assert_eq!(a.timeline[2].errors, 1001);
        assert_eq!(a.latency_us.len(), 2001);
        assert!(a.latency_us.value_at_quantile(0.5).abs_diff(1000) <= 1);
        assert!(a.latency_us.max() >= 4_990_000);
        assert_eq!(a.unanswered(), 2);
        assert_eq!(a.unanswered_us.min(), 1);
        assert!(a.unanswered_us.max().abs_diff(7_000) <= 7);
    }
}
