//! The settings window through WebDriver: waits on what the page shows (the engine's overview
//! arrives as events, so everything is eventually), and screenshots.

use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, Locator};

/// How long anything the app does may take to show: long enough that only a hang reaches it on
/// a loaded machine (everything that works shows much sooner, and is seen as soon as it does).
pub const PATIENCE: Duration = Duration::from_secs(120);

/// Polls `check` until it answers `Ok`, for at most `PATIENCE`; panics with the last answer.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let started = Instant::now();
    loop {
        match check().await {
            Ok(value) => {
                if started.elapsed() > Duration::from_secs(5)
                    && std::env::var_os("ACR_TRAY_TEST_VERBOSE").is_some()
                {
                    eprintln!("desktop: {what} after {:?}", started.elapsed());
                }
                return value;
            }
            Err(last) if started.elapsed() > PATIENCE => {
                panic!("never {what} (within {PATIENCE:?}); last: {last}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// The window.
pub struct Ui {
    pub client: Client,
    /// Where screenshots go (none are taken without).
    shots: Option<PathBuf>,
}

impl Ui {
    pub fn new(client: Client, shots: Option<PathBuf>) -> Self {
        if let Some(dir) = &shots {
            std::fs::create_dir_all(dir).unwrap();
        }
        Self { client, shots }
    }

    /// The element once it exists.
    pub async fn find(&self, css: &str) -> Element {
        self.find_by(css, Locator::Css(css)).await
    }

    /// The element found by XPath once it exists.
    pub async fn find_xpath(&self, xpath: &str) -> Element {
        self.find_by(xpath, Locator::XPath(xpath)).await
    }

    async fn find_by(&self, what: &str, locator: Locator<'_>) -> Element {
        eventually(&format!("found {what}"), || async {
            self.client.find(locator).await.map_err(|e| e.to_string())
        })
        .await
    }

    /// Picks a sign-in method (`servicePrincipal`, `deviceCode`, …) in the sign-in dialog.
    pub async fn pick_sign_in_method(&self, method: &str) {
        self.find_xpath(&format!(
            "//label[input[@name='method' and @value='{method}']]"
        ))
        .await
        .click()
        .await
        .unwrap();
    }

    /// Submits the add-registry dialog and waits until the registry `name` is logged in.
    pub async fn submit_registry(&self, name: &str) {
        self.click("#add-submit").await;
        self.gone("#add-dialog").await;
        self.wait_text(
            &format!("li[data-registry='{name}'] .badge"),
            &format!("logs {name} in"),
            |t| t == "Logged in",
        )
        .await;
    }

    /// Clicks the element once it exists.
    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    /// Types into the input once it exists.
    pub async fn type_into(&self, css: &str, text: &str) {
        self.find(css).await.send_keys(text).await.unwrap();
    }

    /// The element's text now, if it exists.
    pub async fn text_now(&self, css: &str) -> Result<String, String> {
        let el = self
            .client
            .find(Locator::Css(css))
            .await
            .map_err(|e| format!("no {css}: {e}"))?;
        el.text().await.map_err(|e| e.to_string())
    }

    /// Waits until the element's text satisfies `pick`; returns it.
    pub async fn wait_text(&self, css: &str, what: &str, pick: impl Fn(&str) -> bool) -> String {
        eventually(what, || async {
            let text = self.text_now(css).await?;
            if pick(&text) {
                Ok(text)
            } else {
                Err(format!(
                    "{css} says {text:?}; the page: {}",
                    self.page().await
                ))
            }
        })
        .await
    }

    /// Waits until nothing matches `css` (a dialog closed).
    pub async fn gone(&self, css: &str) {
        eventually(&format!("{css} went away"), || async {
            match self.client.find_all(Locator::Css(css)).await {
                Ok(found) if found.is_empty() => Ok(()),
                Ok(_) => Err(format!(
                    "{css} is still there; the page: {}",
                    self.page().await
                )),
                Err(e) => Err(e.to_string()),
            }
        })
        .await
    }

    /// An attribute of the element now.
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.find(css).await.attr(name).await.unwrap()
    }

    /// Goes to a view of the sidebar (`registries`, `accounts`, `general`).
    pub async fn nav(&self, view: &str) {
        let button = format!("#nav-{view}");
        self.click(&button).await;
        eventually(&format!("{view} shown"), || async {
            match self.client.find(Locator::Css(&button)).await {
                Ok(el) => match el.attr("aria-current").await {
                    Ok(Some(c)) if c == "page" => Ok(()),
                    other => Err(format!("aria-current {other:?}")),
                },
                Err(e) => Err(e.to_string()),
            }
        })
        .await;
    }

    /// The visible text of the page, for failure messages.
    pub async fn page(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(e) => format!("(no page: {e})"),
        }
    }

    /// Saves a screenshot of the window as `<dir>/app-<name>.png` when screenshots are wanted,
    /// once the page has rendered two frames since it was asked (WebKit paints after the DOM
    /// changes: the first one may still show the previous state).
    pub async fn screenshot(&self, name: &str) {
        let Some(dir) = &self.shots else {
            return;
        };
        self.client
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                Vec::new(),
            )
            .await
            .unwrap();
        let Ok(png) = tokio::time::timeout(PATIENCE, self.client.screenshot()).await else {
            panic!("no screenshot of {name} within {PATIENCE:?}");
        };
        let png = png.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let path = dir.join(format!("app-{name}.png"));
        std::fs::write(&path, png).unwrap();
        eprintln!("desktop: saved {}", path.display());
    }
}
