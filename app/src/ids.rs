//! Opaque newtype ids. Every id is a positive 64-bit integer allocated by the store (folders, jobs,
//! users, workers) or by the scheduler engine (instances, attempts).

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

id_type!(
    /// Identifies a [`crate::api::Folder`].
    FolderId
);
id_type!(
    /// Identifies a job (its definition, across versions).
    JobId
);
id_type!(
    /// Identifies an instance: one occurrence of a job at a scheduled business time.
    InstanceId
);
id_type!(
    /// Identifies an attempt: one execution of an instance on a worker.
    AttemptId
);
id_type!(
    /// Identifies a registered worker (one per worker token).
    WorkerId
);
id_type!(
    /// Identifies a user account.
    UserId
);
id_type!(
    /// Identifies a business calendar.
    CalendarId
);
id_type!(
    /// Identifies a backfill.
    BackfillId
);
id_type!(
    /// Identifies an entry of the audit trail.
    AuditId
);
id_type!(
    /// Identifies a file or folder of the development center (IDE).
    IdeFileId
);
id_type!(
    /// Identifies a file of the resource center (across its versions).
    ResourceId
);
