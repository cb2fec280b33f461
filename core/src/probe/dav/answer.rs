//! Reading a WebDAV `207 Multi-Status` answer (RFC 4918) with roxmltree: each response's href and the properties
//! of its 2xx propstats. Properties in other propstats (iCloud sends a 404 one beside the 200 one for every
//! property it does not have) are left out, as if not sent. Then what discovery wants from them: the principal,
//! the homes, and the collections worth keeping (calendars that take events, address books).

use url::Url;

use crate::account::{AddressBook, Calendar};

pub(crate) const DAV: &str = "DAV:";
pub(crate) const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
pub(crate) const CARDDAV: &str = "urn:ietf:params:xml:ns:carddav";
pub(crate) const APPLE_ICAL: &str = "http://apple.com/ns/ical/";

/// One property with a 2xx status: its name, its text, the hrefs in it, the elements in it (by namespace and
/// local name) and, for `supported-calendar-component-set`, the components named.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Property {
    pub namespace: String,
    pub name: String,
    pub text: String,
    pub hrefs: Vec<String>,
    pub children: Vec<(String, String)>,
    pub components: Vec<String>,
}

/// One `<response>`: the resource's href (as sent) and its found properties.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Resource {
    pub href: String,
    pub properties: Vec<Property>,
}

impl Resource {
    pub fn property(&self, namespace: &str, name: &str) -> Option<&Property> {
        self.properties.iter().find(|p| p.namespace == namespace && p.name == name)
    }

    fn is_a(&self, namespace: &str, name: &str) -> bool {
        self.property(DAV, "resourcetype").is_some_and(|t| t.children.iter().any(|(ns, n)| ns == namespace && n == name))
    }
}

/// The resources of a multistatus body; an error (for the detail) when it is not one.
pub(crate) fn multistatus(body: &str) -> Result<Vec<Resource>, String> {
    let doc = roxmltree::Document::parse(body).map_err(|e| format!("the answer is not XML: {e}"))?;
    let root = doc.root_element();
    if !is(root, DAV, "multistatus") {
        return Err(format!("the answer is <{}>, not a WebDAV multistatus", root.tag_name().name()));
    }
    let mut resources = Vec::new();
    for response in root.children().filter(|n| is(*n, DAV, "response")) {
        let Some(href) = response.children().find(|n| is(*n, DAV, "href")).and_then(|h| h.text()) else { continue };
        let mut resource = Resource { href: href.trim().to_owned(), properties: Vec::new() };
        for propstat in response.children().filter(|n| is(*n, DAV, "propstat")) {
            let status = propstat.children().find(|n| is(*n, DAV, "status")).and_then(|s| s.text()).unwrap_or_default();
            if !status_is_success(status) {
                continue;
            }
            for prop in propstat.children().filter(|n| is(*n, DAV, "prop")) {
                resource.properties.extend(prop.children().filter(|n| n.is_element()).map(property));
            }
        }
        resources.push(resource);
    }
    Ok(resources)
}

fn property(node: roxmltree::Node) -> Property {
    let elements = || node.descendants().skip(1).filter(|n| n.is_element());
    Property {
        namespace: node.tag_name().namespace().unwrap_or_default().to_owned(),
        name: node.tag_name().name().to_owned(),
        text: node.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()).collect::<String>().trim().to_owned(),
        hrefs: elements().filter(|n| is(*n, DAV, "href")).filter_map(|n| n.text()).map(|t| t.trim().to_owned()).collect(),
        children: node
            .children()
            .filter(|n| n.is_element())
            .map(|n| (n.tag_name().namespace().unwrap_or_default().to_owned(), n.tag_name().name().to_owned()))
            .collect(),
        components: elements()
            .filter(|n| is(*n, CALDAV, "comp"))
            .filter_map(|n| n.attribute("name"))
            .map(str::to_ascii_uppercase)
            .collect(),
    }
}

fn is(node: roxmltree::Node, namespace: &str, name: &str) -> bool {
    node.is_element() && node.tag_name().name() == name && node.tag_name().namespace() == Some(namespace)
}

/// `HTTP/1.1 200 OK` → true; any status outside 2xx, or none readable, → false.
fn status_is_success(status: &str) -> bool {
    status.split_whitespace().nth(1).and_then(|code| code.parse::<u16>().ok()).is_some_and(|code| (200..300).contains(&code))
}

/// The first href of property `namespace:name` in any resource, made absolute against `base` (the URL asked).
pub(crate) fn href_of(resources: &[Resource], namespace: &str, name: &str, base: &Url) -> Option<Url> {
    resources.iter().filter_map(|r| r.property(namespace, name)).flat_map(|p| p.hrefs.first()).find_map(|href| base.join(href).ok())
}

/// The calendars in a Depth 1 listing of the calendar home that take events: a `calendar` resource type, not a
/// scheduling inbox or outbox or a notification collection, and VEVENT among its components (a calendar that
/// names none takes every kind, RFC 4791 5.2.3). Task lists (VTODO only, iCloud's Reminders) are left out.
pub(crate) fn event_calendars(resources: &[Resource], base: &Url) -> Vec<Calendar> {
    resources
        .iter()
        .filter(|r| r.is_a(CALDAV, "calendar"))
        .filter(|r| !r.is_a(CALDAV, "schedule-inbox") && !r.is_a(CALDAV, "schedule-outbox"))
        .filter(|r| !r.children_named("notification"))
        .filter(|r| r.property(CALDAV, "supported-calendar-component-set").is_none_or(|set| set.components.iter().any(|c| c == "VEVENT")))
        .filter_map(|r| {
            let url = collection_url(&r.href, base)?;
            Some(Calendar {
                name: name_of(r, &url),
                color: r.property(APPLE_ICAL, "calendar-color").and_then(|c| rgb(&c.text)),
                url: url.into(),
            })
        })
        .collect()
}

/// The address books in a Depth 1 listing of the address-book home.
pub(crate) fn address_books(resources: &[Resource], base: &Url) -> Vec<AddressBook> {
    resources
        .iter()
        .filter(|r| r.is_a(CARDDAV, "addressbook"))
        .filter_map(|r| {
            let url = collection_url(&r.href, base)?;
            Some(AddressBook { name: name_of(r, &url), url: url.into() })
        })
        .collect()
}

impl Resource {
    /// A resource type of this local name in any namespace (Apple's and CalendarServer's notification collections).
    fn children_named(&self, name: &str) -> bool {
        self.property(DAV, "resourcetype").is_some_and(|t| t.children.iter().any(|(_, n)| n == name))
    }
}

/// A collection's absolute URL ending in `/`.
fn collection_url(href: &str, base: &Url) -> Option<Url> {
    let mut url = base.join(href).ok()?;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Some(url)
}

/// The display name, or the URL's last segment (decoded) where the server gave none.
fn name_of(resource: &Resource, url: &Url) -> String {
    match resource.property(DAV, "displayname").map(|d| d.text.clone()).filter(|n| !n.is_empty()) {
        Some(name) => name,
        None => {
            let segment = url.path_segments().and_then(|mut s| s.rfind(|s| !s.is_empty())).unwrap_or_default();
            url::form_urlencoded::parse(format!("x={segment}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
        }
    }
}

/// Apple's `calendar-color` (`#RRGGBBAA`, or `#RRGGBB`) as `#RRGGBB`; None for anything else.
pub(crate) fn rgb(color: &str) -> Option<String> {
    let hex = color.trim().strip_prefix('#')?;
    if !(hex.len() == 6 || hex.len() == 8) || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    Some(format!("#{}", &hex[..6]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://p23-caldav.icloud.com:443/12345678/calendars/").unwrap()
    }

    /// What iCloud answers to a Depth 1 PROPFIND on a calendar home (shape as documented in the issue: 404
    /// propstats beside 200 ones, an inbox, an outbox, notifications, a Reminders list).
    const HOME_LISTING: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<multistatus xmlns="DAV:">
 <response><href>/12345678/calendars/</href>
  <propstat><prop><resourcetype><collection/></resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat>
  <propstat><prop><displayname/><calendar-color xmlns="http://apple.com/ns/ical/"/></prop><status>HTTP/1.1 404 Not Found</status></propstat>
 </response>
 <response><href>/12345678/calendars/home/</href>
  <propstat><prop>
   <resourcetype><collection/><calendar xmlns="urn:ietf:params:xml:ns:caldav"/></resourcetype>
   <displayname>Home</displayname>
   <calendar-color xmlns="http://apple.com/ns/ical/" symbolic-color="red">#FF2968FF</calendar-color>
   <supported-calendar-component-set xmlns="urn:ietf:params:xml:ns:caldav"><comp name="VEVENT"/></supported-calendar-component-set>
  </prop><status>HTTP/1.1 200 OK</status></propstat>
  <propstat><prop><getctag xmlns="http://calendarserver.org/ns/"/></prop><status>HTTP/1.1 404 Not Found</status></propstat>
 </response>
 <response><href>/12345678/calendars/work%20stuff</href>
  <propstat><prop>
   <resourcetype><collection/><C:calendar xmlns:C="urn:ietf:params:xml:ns:caldav"/></resourcetype>
   <C:supported-calendar-component-set xmlns:C="urn:ietf:params:xml:ns:caldav"><C:comp name="VEVENT"/><C:comp name="VTODO"/></C:supported-calendar-component-set>
  </prop><status>HTTP/1.1 200 OK</status></propstat>
  <propstat><prop><displayname/></prop><status>HTTP/1.1 404 Not Found</status></propstat>
 </response>
 <response><href>/12345678/calendars/tasks/</href>
  <propstat><prop>
   <resourcetype><collection/><calendar xmlns="urn:ietf:params:xml:ns:caldav"/></resourcetype>
   <displayname>Reminders</displayname>
   <supported-calendar-component-set xmlns="urn:ietf:params:xml:ns:caldav"><comp name="VTODO"/></supported-calendar-component-set>
  </prop><status>HTTP/1.1 200 OK</status></propstat>
 </response>
 <response><href>/12345678/calendars/inbox/</href>
  <propstat><prop><resourcetype><collection/><schedule-inbox xmlns="urn:ietf:params:xml:ns:caldav"/></resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat>
 </response>
 <response><href>/12345678/calendars/outbox/</href>
  <propstat><prop><resourcetype><collection/><calendar xmlns="urn:ietf:params:xml:ns:caldav"/><schedule-outbox xmlns="urn:ietf:params:xml:ns:caldav"/></resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat>
 </response>
 <response><href>/12345678/calendars/notification/</href>
  <propstat><prop><resourcetype><collection/><calendar xmlns="urn:ietf:params:xml:ns:caldav"/><notification xmlns="http://calendarserver.org/ns/"/></resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat>
 </response>
 <response><href>/12345678/calendars/gone/</href>
  <propstat><prop><resourcetype><collection/><calendar xmlns="urn:ietf:params:xml:ns:caldav"/></resourcetype><displayname>Gone</displayname></prop><status>HTTP/1.1 404 Not Found</status></propstat>
 </response>
</multistatus>"##;

    #[test]
    fn only_calendars_for_events_are_kept_with_name_colour_and_url() {
        let found = event_calendars(&multistatus(HOME_LISTING).unwrap(), &base());
        assert_eq!(
            found,
            vec![
                Calendar {
                    name: "Home".into(),
                    url: "https://p23-caldav.icloud.com/12345678/calendars/home/".into(),
                    color: Some("#FF2968".into())
                },
                // No display name (404): the last segment, decoded; the URL gets its slash.
                Calendar {
                    name: "work stuff".into(),
                    url: "https://p23-caldav.icloud.com/12345678/calendars/work%20stuff/".into(),
                    color: None
                },
            ]
        );
    }

    #[test]
    fn properties_in_404_propstats_count_as_absent() {
        let resources = multistatus(HOME_LISTING).unwrap();
        let home = resources.iter().find(|r| r.href.ends_with("/home/")).unwrap();
        assert!(home.property("http://calendarserver.org/ns/", "getctag").is_none());
        assert_eq!(home.property(DAV, "displayname").unwrap().text, "Home");
        let gone = resources.iter().find(|r| r.href.ends_with("/gone/")).unwrap();
        assert!(gone.properties.is_empty(), "a resource whose only propstat is 404 has no properties");
    }

    #[test]
    fn the_principal_and_the_home_come_from_200_propstats_and_are_made_absolute() {
        let principal = r#"<d:multistatus xmlns:d="DAV:"><d:response><d:href>/</d:href>
            <d:propstat><d:prop><d:current-user-principal><d:href>/12345678/principal/</d:href></d:current-user-principal></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>
            <d:propstat><d:prop><c:calendar-home-set xmlns:c="urn:ietf:params:xml:ns:caldav"/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>
            </d:response></d:multistatus>"#;
        let asked = Url::parse("https://caldav.icloud.com/").unwrap();
        let resources = multistatus(principal).unwrap();
        assert_eq!(
            href_of(&resources, DAV, "current-user-principal", &asked).unwrap().as_str(),
            "https://caldav.icloud.com/12345678/principal/"
        );
        assert_eq!(href_of(&resources, CALDAV, "calendar-home-set", &asked), None, "a 404 home-set is no home");

        let home = r#"<multistatus xmlns="DAV:"><response><href>/12345678/principal/</href><propstat><prop>
            <calendar-home-set xmlns="urn:ietf:params:xml:ns:caldav"><href xmlns="DAV:">https://p23-caldav.icloud.com:443/12345678/calendars/</href></calendar-home-set>
            </prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"#;
        let at = Url::parse("https://caldav.icloud.com/12345678/principal/").unwrap();
        let found = href_of(&multistatus(home).unwrap(), CALDAV, "calendar-home-set", &at).unwrap();
        assert_eq!(found.host_str(), Some("p23-caldav.icloud.com"));
        assert_eq!(found.as_str(), "https://p23-caldav.icloud.com/12345678/calendars/");
    }

    #[test]
    fn address_books_are_found_by_resource_type_and_named_by_their_segment() {
        let listing = r#"<multistatus xmlns="DAV:" xmlns:A="urn:ietf:params:xml:ns:carddav">
            <response><href>/12345678/carddavhome/</href><propstat><prop><resourcetype><collection/></resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat></response>
            <response><href>/12345678/carddavhome/card/</href><propstat><prop><resourcetype><collection/><A:addressbook/></resourcetype></prop><status>HTTP/1.1 200 OK</status></propstat>
              <propstat><prop><displayname/></prop><status>HTTP/1.1 404 Not Found</status></propstat></response>
            </multistatus>"#;
        let base = Url::parse("https://p23-contacts.icloud.com:443/12345678/carddavhome/").unwrap();
        let books = address_books(&multistatus(listing).unwrap(), &base);
        assert_eq!(
            books,
            vec![AddressBook { name: "card".into(), url: "https://p23-contacts.icloud.com/12345678/carddavhome/card/".into() }]
        );
        assert!(event_calendars(&multistatus(listing).unwrap(), &base).is_empty());
    }

    #[test]
    fn what_is_not_a_multistatus_is_refused() {
        assert!(multistatus("<html><body>Unsupported Request</body></html>").unwrap_err().contains("not a WebDAV multistatus"));
        assert!(multistatus("Method Not Allowed").unwrap_err().contains("not XML"));
    }

    #[test]
    fn colours_lose_their_alpha() {
        assert_eq!(rgb("#FF2968FF").as_deref(), Some("#FF2968"));
        assert_eq!(rgb(" #1badf8 ").as_deref(), Some("#1badf8"));
        assert_eq!(rgb("red"), None);
        assert_eq!(rgb("#12345"), None);
    }
}
