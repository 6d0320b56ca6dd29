//! Which transport reaches whom: the national hub and each configured LGSP are routes, and the
//! directory (`exchange_directory`, filled from every route's list of connected agencies)
//! names the route of each outside agency. A recipient the directory does not name goes
//! through the hub (or the only route there is).

use super::lgsp::LgspClient;
use super::transport::{
    Connected, HubClient, MessageType, Taken, Transport, TransportError, Waiting,
};
use bytes::Bytes;

/// One configured route.
pub enum Route {
    Hub(Box<HubClient>),
    Lgsp(Box<LgspClient>),
}

impl Transport for Route {
    fn route(&self) -> &str {
        match self {
            Route::Hub(h) => h.route(),
            Route::Lgsp(l) => l.route(),
        }
    }

    async fn send(
        &self,
        from: &str,
        message_type: MessageType,
        packet: Bytes,
    ) -> Result<String, TransportError> {
        match self {
            Route::Hub(h) => h.send(from, message_type, packet).await,
            Route::Lgsp(l) => l.send(from, message_type, packet).await,
        }
    }

    async fn received(
        &self,
        agency: &str,
        message_type: MessageType,
    ) -> Result<Vec<Waiting>, TransportError> {
        match self {
            Route::Hub(h) => h.received(agency, message_type).await,
            Route::Lgsp(l) => l.received(agency, message_type).await,
        }
    }

    async fn get(&self, agency: &str, id: &str) -> Result<Bytes, TransportError> {
        match self {
            Route::Hub(h) => h.get(agency, id).await,
            Route::Lgsp(l) => l.get(agency, id).await,
        }
    }

    async fn update_status(
        &self,
        agency: &str,
        id: &str,
        done: bool,
    ) -> Result<(), TransportError> {
        match self {
            Route::Hub(h) => h.update_status(agency, id, done).await,
            Route::Lgsp(l) => l.update_status(agency, id, done).await,
        }
    }

    async fn agencies(&self) -> Result<Vec<Connected>, TransportError> {
        match self {
            Route::Hub(h) => h.agencies().await,
            Route::Lgsp(l) => l.agencies().await,
        }
    }

    async fn taken(
        &self,
        from: &str,
        message_type: MessageType,
    ) -> Result<Vec<Taken>, TransportError> {
        match self {
            Route::Hub(h) => h.taken(from, message_type).await,
            Route::Lgsp(l) => l.taken(from, message_type).await,
        }
    }
}

/// Every configured route: the hub first (when it has an address), then the LGSPs by name.
pub struct Routes {
    routes: Vec<Route>,
}

impl Routes {
    pub fn from_settings(x: &crate::settings::Exchange) -> Self {
        let mut routes = Vec::new();
        if !x.hub.url.trim().is_empty() {
            routes.push(Route::Hub(Box::new(HubClient::new(x.hub.clone()))));
        }
        for (name, config) in &x.lgsp {
            routes.push(Route::Lgsp(Box::new(LgspClient::new(name, config.clone()))));
        }
        Routes { routes }
    }

    pub fn all(&self) -> &[Route] {
        &self.routes
    }

    /// The route of this name.
    pub fn named(&self, name: &str) -> Option<&Route> {
        self.routes.iter().find(|r| r.route() == name)
    }

    /// The route taken when the directory names none: the hub, else the first.
    pub fn default_route(&self) -> Option<&Route> {
        self.named("hub").or_else(|| self.routes.first())
    }

    /// The route to an outside agency: the one the directory names for it, else the default.
    pub async fn for_recipient(&self, app: &crate::App, code: &str) -> Option<&Route> {
        let named = egov_store::exchange::route_of(&mut &app.db, code)
            .await
            .ok()
            .flatten();
        named
            .and_then(|n| self.named(&n))
            .or_else(|| self.default_route())
    }
}
