//! Exporters (the export issue): one module per client format behind one small trait, and the Thunderbird
//! profile editor beside them. Every format carries servers, ports, security and usernames, never the password.
//! Not built yet.
