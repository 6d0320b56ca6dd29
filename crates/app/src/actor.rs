//! Who is acting: a signed-in official, or the system itself (imports, workers, the CLI).

/// The author of a change, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// None for the system.
    pub person_id: Option<i64>,
    pub username: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn system(what: &str) -> Self {
        Actor {
            person_id: None,
            username: format!("system:{what}"),
            ip: None,
            request_id: None,
        }
    }

    pub fn person(id: i64, username: impl Into<String>) -> Self {
        Actor {
            person_id: Some(id),
            username: username.into(),
            ip: None,
            request_id: None,
        }
    }

    pub fn with_request(mut self, ip: Option<String>, request_id: Option<String>) -> Self {
        self.ip = ip;
        self.request_id = request_id;
        self
    }

    pub fn is_system(&self) -> bool {
        self.person_id.is_none()
    }
}
