//! The consent screen: `GET` shows a form, `POST` answers the client's `redirect_uri` with a
//! code (or `error=access_denied`), as the real providers do after the user's choice.

use std::time::Instant;

use actix_web::{http::header, web, HttpResponse};
use serde::Deserialize;
use url::Url;

use crate::{
    pkce,
    store::{Grant, MockUser, Store, Which},
};

/// The authorize request, from the query (`GET`) or the form's hidden fields (`POST`).
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct AuthorizeParams {
    response_type: Option<String>,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    scope: String,
    state: Option<String>,
    #[serde(default)]
    code_challenge: String,
    code_challenge_method: Option<String>,
    login_hint: Option<String>,
}

/// The person's choices on the form.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Choice {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    /// A checkbox: present ("on") when ticked.
    email_verified: Option<String>,
    public_email: Option<String>,
    /// `allow` or `deny`.
    #[serde(default)]
    action: String,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AuthorizeForm {
    #[serde(flatten)]
    params: AuthorizeParams,
    #[serde(flatten)]
    choice: Choice,
}

fn title(which: Which) -> &'static str {
    match which {
        Which::Google => "Google",
        Which::Github => "GitHub",
    }
}

/// The checks a real provider makes before showing its consent screen; the mock also
/// insists on PKCE S256 so a client that forgets it fails here, not in production.
fn validate(
    store: &Store,
    which: Which,
    p: &AuthorizeParams,
) -> Result<Url, (&'static str, &'static str)> {
    if store.client_secret(which, &p.client_id).is_none() {
        return Err(("invalid_client", "The OAuth client was not found."));
    }
    let redirect = Url::parse(&p.redirect_uri)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or((
            "redirect_uri_mismatch",
            "redirect_uri must be an http(s) URL.",
        ))?;
    if which == Which::Google && p.response_type.as_deref() != Some("code") {
        return Err(("unsupported_response_type", "response_type must be code."));
    }
    if p.code_challenge_method.as_deref() != Some("S256") || p.code_challenge.len() != 43 {
        return Err((
            "invalid_request",
            "This mock requires PKCE: code_challenge with code_challenge_method=S256.",
        ));
    }
    Ok(redirect)
}

pub(crate) async fn show(
    store: web::Data<Store>,
    which: Which,
    query: web::Query<AuthorizeParams>,
) -> HttpResponse {
    let params = query.into_inner();
    if let Err((code, message)) = validate(&store, which, &params) {
        return error_page(code, message);
    }
    let email = params
        .login_hint
        .clone()
        .filter(|h| h.contains('@'))
        .unwrap_or_else(|| store.config.default_email.clone());
    let choice = Choice {
        name: if params.login_hint.is_some() {
            email.split('@').next().unwrap_or_default().to_owned()
        } else {
            store.config.default_name.clone()
        },
        email,
        ..Choice::default()
    };
    form_page(which, &params, &choice, None)
}

pub(crate) async fn decide(
    store: web::Data<Store>,
    which: Which,
    form: web::Form<AuthorizeForm>,
) -> HttpResponse {
    let AuthorizeForm { params, choice } = form.into_inner();
    let mut target = match validate(&store, which, &params) {
        Ok(target) => target,
        Err((code, message)) => return error_page(code, message),
    };
    if choice.action == "deny" {
        {
            let mut query = target.query_pairs_mut();
            query.append_pair("error", "access_denied");
            if which == Which::Github {
                query.append_pair(
                    "error_description",
                    "The user has denied your application access.",
                );
            }
            if let Some(state) = &params.state {
                query.append_pair("state", state);
            }
        }
        return redirect(&target);
    }
    let email = choice.email.trim().to_lowercase();
    if !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
        return form_page(which, &params, &choice, Some("Enter an email address."));
    }
    let user = MockUser {
        name: if choice.name.trim().is_empty() {
            email.split('@').next().unwrap_or_default().to_owned()
        } else {
            choice.name.trim().to_owned()
        },
        email,
        email_verified: choice.email_verified.is_some(),
        public_email: choice.public_email.is_some(),
    };
    tracing::info!(provider = title(which), email = %user.email, "mock consent given");
    let code = store.issue_code(Grant {
        which,
        client_id: params.client_id.clone(),
        redirect_uri: params.redirect_uri.clone(),
        code_challenge: params.code_challenge.clone(),
        scope: params.scope.clone(),
        user,
        issued: Instant::now(),
    });
    {
        let mut query = target.query_pairs_mut();
        query.append_pair("code", &code);
        if let Some(state) = &params.state {
            query.append_pair("state", state);
        }
    }
    redirect(&target)
}

fn redirect(target: &Url) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, target.as_str()))
        .finish()
}

fn error_page(code: &str, message: &str) -> HttpResponse {
    HttpResponse::BadRequest()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><title>Mock OAuth error</title><h1>Error: {}</h1><p id=\"error\">{}</p>",
            escape(code),
            escape(message)
        ))
}

fn form_page(
    which: Which,
    params: &AuthorizeParams,
    choice: &Choice,
    problem: Option<&str>,
) -> HttpResponse {
    let hidden: String = [
        (
            "response_type",
            params.response_type.as_deref().unwrap_or(""),
        ),
        ("client_id", params.client_id.as_str()),
        ("redirect_uri", params.redirect_uri.as_str()),
        ("scope", params.scope.as_str()),
        ("state", params.state.as_deref().unwrap_or("")),
        ("code_challenge", params.code_challenge.as_str()),
        (
            "code_challenge_method",
            params.code_challenge_method.as_deref().unwrap_or(""),
        ),
    ]
    .iter()
    .map(|(name, value)| {
        format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">\n",
            escape(value)
        )
    })
    .collect();
    let provider = title(which);
    let public_email = if which == Which::Github {
        "<label><input type=\"checkbox\" id=\"public_email\" name=\"public_email\"> \
         Public email on the profile (else private: only in /user/emails)</label>"
    } else {
        ""
    };
    let problem = problem
        .map(|p| format!("<p id=\"problem\" role=\"alert\">{}</p>", escape(p)))
        .unwrap_or_default();
    let status = if problem.is_empty() {
        actix_web::http::StatusCode::OK
    } else {
        actix_web::http::StatusCode::BAD_REQUEST
    };
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(format!(
            r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in with {provider} (mock)</title>
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto}}label{{display:block;margin:.6rem 0}}input[type=email],input[type=text]{{width:100%}}</style></head>
<body>
<h1>{provider} (mock)</h1>
<p>A local stand-in for {provider}: choose who you are. Scopes requested: <code>{scope}</code>.</p>
{problem}<form method="post" id="consent">
{hidden}<label>Email <input type="email" id="email" name="email" value="{email}" required></label>
<label>Name <input type="text" id="name" name="name" value="{name}"></label>
<label><input type="checkbox" id="email_verified" name="email_verified" checked> Email verified</label>
{public_email}
<button type="submit" id="sign-in" name="action" value="allow">Sign in as {email}</button>
<button type="submit" id="cancel" name="action" value="deny">Cancel</button>
</form>
</body></html>
"#,
            scope = escape(&params.scope),
            email = escape(&choice.email),
            name = escape(&choice.name),
        ))
}

/// Escapes text for HTML content and double-quoted attributes.
fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Checks a verifier against the grant's challenge (kept here beside the form that took it).
pub(crate) fn verifier_matches(grant: &Grant, verifier: Option<&str>) -> bool {
    verifier.is_some_and(|v| pkce::well_formed(v) && pkce::s256(v) == grant.code_challenge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
