//! Sign-in throttling. Failed logins are counted per client address and per (address, user name)
//! over a sliding window, and registrations per address; at the limit, the next try is refused
//! with a 429 (before any password is hashed) until the oldest counted event leaves the window.
//! The per-name limit stops password guessing against one account without letting one address
//! lock everybody else out; the per-address limit bounds guessing across many names.
//!
//! The counts live in memory: a restart forgets them, and each server of a cluster counts its
//! own. Behind a reverse proxy every client has the proxy's address, so the per-address limits
//! are shared by all its users.

use std::{
    collections::{HashMap, VecDeque},
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

use crate::error::ApiError;

/// Failed logins of one user name from one address, per window.
const FAILURES_PER_NAME: usize = 5;
/// Failed logins from one address, per window.
const FAILURES_PER_ADDRESS: usize = 100;
/// The window of the login limits.
const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Registrations from one address, per window.
const REGISTRATIONS_PER_ADDRESS: usize = 10;
/// The window of the registration limit.
const REGISTRATION_WINDOW: Duration = Duration::from_secs(60 * 60);
/// Past this many keys, a count drops every key with nothing left in its window.
const PRUNE_ABOVE: usize = 10_000;

/// Events per key in a sliding window, at most `limit` of them.
#[derive(Debug)]
pub struct Throttle {
    limit: usize,
    window: Duration,
    events: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Throttle {
    /// At most `limit` events per key in any `window`.
    pub fn new(limit: usize, window: Duration) -> Self {
        Throttle {
            limit,
            window,
            events: Mutex::default(),
        }
    }

    /// How long until `key` may try again, when it is at its limit at `now`.
    pub fn wait(&self, key: &str, now: Instant) -> Option<Duration> {
        let mut events = self.events.lock().expect("throttle lock");
        let times = events.get_mut(key)?;
        self.forget_old(times, now);
        (times.len() >= self.limit).then(|| {
            let oldest = times.front().copied().unwrap_or(now);
            (oldest + self.window).saturating_duration_since(now)
        })
    }

    /// Counts one event of `key` at `now`.
    pub fn count(&self, key: &str, now: Instant) {
        let mut events = self.events.lock().expect("throttle lock");
        if events.len() > PRUNE_ABOVE {
            events.retain(|_, times| {
                self.forget_old(times, now);
                !times.is_empty()
            });
        }
        let times = events.entry(key.to_owned()).or_default();
        self.forget_old(times, now);
        times.push_back(now);
        // Only the newest `limit` matter for `wait`.
        while times.len() > self.limit {
            times.pop_front();
        }
    }

    /// Forgets `key`'s events.
    pub fn clear(&self, key: &str) {
        self.events.lock().expect("throttle lock").remove(key);
    }

    fn forget_old(&self, times: &mut VecDeque<Instant>, now: Instant) {
        while times
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= self.window)
        {
            times.pop_front();
        }
    }
}

/// The server's sign-in and registration limits.
#[derive(Debug)]
pub struct SignInLimits {
    by_name: Throttle,
    by_address: Throttle,
    registrations: Throttle,
}

impl Default for SignInLimits {
    fn default() -> Self {
        SignInLimits {
            by_name: Throttle::new(FAILURES_PER_NAME, LOGIN_WINDOW),
            by_address: Throttle::new(FAILURES_PER_ADDRESS, LOGIN_WINDOW),
            registrations: Throttle::new(REGISTRATIONS_PER_ADDRESS, REGISTRATION_WINDOW),
        }
    }
}

impl SignInLimits {
    /// A 429 if `username` (or anyone) from `address` failed to sign in too often lately.
    pub fn check_login(&self, address: IpAddr, username: &str) -> Result<(), ApiError> {
        let now = Instant::now();
        let wait = self
            .by_name
            .wait(&name_key(address, username), now)
            .max(self.by_address.wait(&address.to_string(), now));
        match wait {
            Some(wait) => Err(too_many("failed sign-ins", wait)),
            None => Ok(()),
        }
    }

    /// Counts a failed sign-in (wrong name or password).
    pub fn login_failed(&self, address: IpAddr, username: &str) {
        let now = Instant::now();
        self.by_name.count(&name_key(address, username), now);
        self.by_address.count(&address.to_string(), now);
    }

    /// A successful sign-in forgets the name's failures from that address.
    pub fn login_succeeded(&self, address: IpAddr, username: &str) {
        self.by_name.clear(&name_key(address, username));
    }

    /// A 429 if `address` registered too many accounts lately.
    pub fn check_registration(&self, address: IpAddr) -> Result<(), ApiError> {
        match self
            .registrations
            .wait(&address.to_string(), Instant::now())
        {
            Some(wait) => Err(too_many("registrations", wait)),
            None => Ok(()),
        }
    }

    /// Counts an account registered from `address`.
    pub fn registered(&self, address: IpAddr) {
        self.registrations
            .count(&address.to_string(), Instant::now());
    }
}

fn name_key(address: IpAddr, username: &str) -> String {
    format!("{address}/{}", username.trim().to_lowercase())
}

fn too_many(what: &str, wait: Duration) -> ApiError {
    let retry_after_s = wait.as_secs().max(1);
    ApiError::TooManyAttempts {
        message: format!(
            "too many {what} from this address; try again in {} min",
            retry_after_s.div_ceil(60)
        ),
        retry_after_s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_at_the_limit_until_the_oldest_event_leaves_the_window() {
        let throttle = Throttle::new(3, Duration::from_secs(60));
        let start = Instant::now();
        for s in 0..3 {
            assert_eq!(throttle.wait("a", start + Duration::from_secs(s)), None);
            throttle.count("a", start + Duration::from_secs(s));
        }
        let at = start + Duration::from_secs(10);
        assert_eq!(throttle.wait("a", at), Some(Duration::from_secs(50)));
        assert_eq!(throttle.wait("b", at), None, "other keys are not affected");
        let later = start + Duration::from_secs(60);
        assert_eq!(
            throttle.wait("a", later),
            None,
            "the event at 0 s left the window"
        );
        throttle.count("a", later);
        assert_eq!(
            throttle.wait("a", later),
            Some(Duration::from_secs(1)),
            "the events at 1 s, 2 s and 60 s fill it again"
        );
        throttle.clear("a");
        assert_eq!(throttle.wait("a", later), None);
    }

    #[test]
    fn a_name_is_limited_per_address_and_the_address_across_names() {
        let limits = SignInLimits::default();
        let (one, two): (IpAddr, IpAddr) =
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..FAILURES_PER_NAME {
            limits.check_login(one, "ann").unwrap();
            limits.login_failed(one, "Ann ");
        }
        let refused = limits.check_login(one, "ann").unwrap_err();
        assert!(
            matches!(refused, ApiError::TooManyAttempts { retry_after_s, .. } if retry_after_s > 800)
        );
        limits.check_login(two, "ann").unwrap();
        limits.check_login(one, "bob").unwrap();
        for i in 0..FAILURES_PER_ADDRESS {
            limits.login_failed(one, &format!("user{i}"));
        }
        assert!(limits.check_login(one, "carol").is_err());
        assert!(limits.check_login(two, "carol").is_ok());
    }

    #[test]
    fn a_success_forgets_the_names_failures() {
        let limits = SignInLimits::default();
        let address: IpAddr = "::1".parse().unwrap();
        for _ in 0..FAILURES_PER_NAME - 1 {
            limits.login_failed(address, "ann");
        }
        limits.login_succeeded(address, "ann");
        limits.login_failed(address, "ann");
        limits.check_login(address, "ann").unwrap();
    }

    #[test]
    fn registrations_are_limited_per_address() {
        let limits = SignInLimits::default();
        let address: IpAddr = "10.0.0.3".parse().unwrap();
        for _ in 0..REGISTRATIONS_PER_ADDRESS {
            limits.check_registration(address).unwrap();
            limits.registered(address);
        }
        assert!(limits.check_registration(address).is_err());
        limits
            .check_registration("10.0.0.4".parse().unwrap())
            .unwrap();
    }
}
