//! When to try a ClawHub request again, and how long to wait first: one policy for every client
//! (the blocking install client, the mirror's async upstream sync).
//!
//! The policy is pure. It is told what went wrong and what the server asked for, and answers with
//! a delay or a reason to stop; each client sleeps its own way (a thread sleep, a timer).
//!
//! - **Transient** failures are retried: network errors (a truncated body counts as one), 408,
//!   429 and every 5xx. ClawHub's own CLI retries the same set.
//! - **Refusals** are final: 403 (blocked), 410 (removed), 423 (pending review) are the registry's
//!   policy, and asking again does not change it. Every other status is final too.
//! - The delay is the server's `Retry-After` (delta-seconds or an HTTP date) when it sends one,
//!   else an exponential backoff (`backoff`, doubled each retry, at most `max_backoff`).
//! - A `Retry-After` longer than `max_retry_after` stops at once: waiting an hour stalls an
//!   install or a sync, and a failure says why.

use std::time::{Duration, SystemTime};

/// How often to retry and how long to wait. The defaults suit an interactive client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// Delay before the first retry when the server gives no `Retry-After`; doubled each retry.
    pub backoff: Duration,
    /// The longest backoff delay.
    pub max_backoff: Duration,
    /// The longest `Retry-After` waited for; a longer one ends the request.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 3,
            backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

/// What went wrong with one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No complete answer: the connection failed, timed out, or the body was cut short.
    Network,
    /// An answer with this HTTP status (not 2xx).
    Status(u16),
}

/// What an HTTP status means to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusClass {
    /// 408, 429, 5xx: worth another try.
    Transient,
    /// 403, 410, 423: the registry's policy says no.
    Refusal,
    /// Anything else: the answer stands (2xx, 404, other 4xx).
    Final,
}

/// The policy's answer after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// Give up; the failure is the answer.
    Stop(Stop),
}

/// Why the policy gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The failure is not transient (a refusal, a 404, any other final status).
    Final,
    /// Every retry is spent.
    Exhausted,
    /// The server asked to wait longer than the policy allows.
    RetryAfterTooLong(Duration),
}

/// Classifies an HTTP status.
pub fn classify(status: u16) -> StatusClass {
    match status {
        408 | 429 | 500..=599 => StatusClass::Transient,
        403 | 410 | 423 => StatusClass::Refusal,
        _ => StatusClass::Final,
    }
}

impl RetryPolicy {
    /// What to do after `failure`, when `retries_done` retries have been made already and the
    /// server sent `retry_after` (see [`parse_retry_after`]).
    pub fn next(&self, retries_done: u32, failure: Failure, retry_after: Option<Duration>) -> Next {
        let transient = match failure {
            Failure::Network => true,
            Failure::Status(status) => classify(status) == StatusClass::Transient,
        };
        if !transient {
            return Next::Stop(Stop::Final);
        }
        if retries_done >= self.retries {
            return Next::Stop(Stop::Exhausted);
        }
        match retry_after {
            Some(wait) if wait > self.max_retry_after => Next::Stop(Stop::RetryAfterTooLong(wait)),
            Some(wait) => Next::RetryAfter(wait),
            None => Next::RetryAfter(self.backoff(retries_done)),
        }
    }

    /// The backoff before retry number `retries_done + 1`: `backoff × 2^retries_done`, at most
    /// `max_backoff`.
    pub fn backoff(&self, retries_done: u32) -> Duration {
        let factor = 1u32.checked_shl(retries_done.min(31)).unwrap_or(u32::MAX);
        self.backoff.saturating_mul(factor).min(self.max_backoff)
    }
}

/// A `Retry-After` value, delta-seconds or an HTTP date, as a delay from `now` (a date in the past
/// is no delay). `None` when it is neither.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            retries: 3,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(350),
            max_retry_after: Duration::from_secs(10),
        }
    }

    #[test]
    fn transient_failures_are_retried_with_a_capped_exponential_backoff() {
        let p = policy();
        for failure in [Failure::Network, Failure::Status(408), Failure::Status(429), Failure::Status(503)] {
            let delays: Vec<Next> = (0..4).map(|done| p.next(done, failure, None)).collect();
            assert_eq!(
                delays,
                [
                    Next::RetryAfter(Duration::from_millis(100)),
                    Next::RetryAfter(Duration::from_millis(200)),
                    Next::RetryAfter(Duration::from_millis(350)),
                    Next::Stop(Stop::Exhausted),
                ],
                "{failure:?}"
            );
        }
        // Huge retry counts neither overflow nor exceed the cap.
        assert_eq!(p.backoff(200), Duration::from_millis(350));
        let unbounded = RetryPolicy { max_backoff: Duration::MAX, ..p };
        assert_eq!(unbounded.backoff(40), Duration::from_millis(100) * (1 << 31));
    }

    #[test]
    fn refusals_and_other_final_statuses_are_not_retried() {
        let p = policy();
        for status in [403, 410, 423, 400, 401, 404, 409, 415] {
            assert_eq!(p.next(0, Failure::Status(status), Some(Duration::ZERO)), Next::Stop(Stop::Final), "{status}");
        }
        assert_eq!(classify(403), StatusClass::Refusal);
        assert_eq!(classify(410), StatusClass::Refusal);
        assert_eq!(classify(423), StatusClass::Refusal);
        assert_eq!(classify(404), StatusClass::Final);
        assert_eq!(classify(200), StatusClass::Final);
        assert_eq!(classify(599), StatusClass::Transient);
        assert_eq!(classify(600), StatusClass::Final);
    }

    #[test]
    fn retry_after_is_honoured_up_to_the_bound() {
        let p = policy();
        let s = Duration::from_secs;
        assert_eq!(p.next(0, Failure::Status(429), Some(s(2))), Next::RetryAfter(s(2)));
        assert_eq!(p.next(2, Failure::Status(503), Some(s(0))), Next::RetryAfter(s(0)));
        assert_eq!(p.next(0, Failure::Status(429), Some(s(10))), Next::RetryAfter(s(10)));
        assert_eq!(p.next(0, Failure::Status(429), Some(s(11))), Next::Stop(Stop::RetryAfterTooLong(s(11))));
        // Out of retries, a long wait is not the reason to stop.
        assert_eq!(p.next(3, Failure::Status(429), Some(s(3600))), Next::Stop(Stop::Exhausted));
    }

    #[test]
    fn retry_after_values() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap_or(SystemTime::UNIX_EPOCH);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 120 ", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(Duration::ZERO));
        for bad in ["soon", "-1", "1.5", ""] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }
}
