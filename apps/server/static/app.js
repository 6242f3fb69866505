// Altrion demo page: sign up, log in (JWT kept in localStorage), OAuth buttons, current user,
// linking and unlinking providers (with re-authentication), the sessions a user is signed in
// with (and ending one), changing the password, deleting the account, password recovery and
// email verification by mailed link, log out. No framework, no build step, no inline script (works under `script-src 'self'`).
(function () {
  'use strict';

  var TOKEN_KEY = 'altrion.token';

  // Readable text for every error code of docs/api.md and every OAuth redirect code.
  var MESSAGES = {
    // API errors
    malformed_json: 'The request could not be understood (malformed JSON).',
    bad_request: 'The request could not be read. Please try again.',
    invalid_credentials: 'Wrong email or password.',
    unauthorized: 'You are not signed in, or your sign-in has expired. Please log in again.',
    not_found: 'That feature is not available on this server.',
    method_not_allowed: 'This action is not supported by the server.',
    email_taken: 'An account with this email already exists. Log in instead.',
    payload_too_large: 'What you entered is too long.',
    unsupported_media_type: 'The request was sent in a format the server does not accept.',
    validation_failed: 'Please correct the highlighted fields.',
    rate_limited: 'Too many attempts.',
    service_unavailable: 'The service is temporarily unavailable. Please try again shortly.',
    internal: 'Something went wrong on our side. Please try again.',
    // OAuth redirect codes (?error=<code> on return from /api/auth/{google,github})
    access_denied: 'Sign-in was cancelled at the provider.',
    invalid_state: 'The sign-in attempt expired or was started in another tab. Please try again.',
    provider_error: 'The sign-in provider reported an error. Please try again.',
    timeout: 'The sign-in provider did not answer in time. Please try again.',
    email_not_verified: 'This email address is not verified yet. Open the link we mailed you (or, for Google or GitHub, verify it with the provider), then try again.',
    account_exists: 'An account with this email already exists. Log in with your password, then link the provider.',
    provider_disabled: 'Sign-in with this provider is not enabled on this server.',
    invalid_redirect: 'The sign-in was asked to return to an address that is not allowed.',
    unavailable: 'Sign-in is temporarily unavailable. Please try again shortly.',
    forbidden_origin: 'This request came from a page that may not act for you.',
    request_timeout: 'The request took too long to arrive. Please try again.',
    reauthentication_required: 'Please confirm it is you: enter your current password (or sign in again if your account has none).',
    last_sign_in_method: 'This is your only way to sign in; link another one or set a password first.',
    session_not_found: 'That session has already ended.',
    invalid_token: 'This link is invalid, has expired or was already used. Ask for a new one.',
    email_already_verified: 'Your email address is already verified.',
    // Client-side conditions
    network: 'Cannot reach the server. Check your connection and try again.'
  };

  var PROVIDER_NAMES = { local: 'Email and password', google: 'Google', github: 'GitHub' };

  var apiBase = readApiBase();
  var el = {};
  // Bumped on every sessions request and on sign-out: a late answer for an older one is ignored.
  var sessionsSeq = 0;

  function $(id) {
    return document.getElementById(id);
  }

  function readApiBase() {
    var meta = document.querySelector('meta[name="altrion-api"]');
    var base = meta ? (meta.getAttribute('content') || '').trim() : '';
    return base.replace(/\/+$/, '');
  }

  function apiUrl(path) {
    return apiBase + path;
  }

  // ---- token storage (localStorage may be unavailable, e.g. in some private modes) ----

  function getToken() {
    try {
      return window.localStorage.getItem(TOKEN_KEY);
    } catch (e) {
      return null;
    }
  }

  function setToken(token) {
    try {
      window.localStorage.setItem(TOKEN_KEY, token);
    } catch (e) {
      /* the page still works until reload */
    }
  }

  function forgetToken() {
    try {
      window.localStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      /* nothing stored */
    }
  }

  // ---- HTTP ----

  // Resolves to {ok, status, body, error: {code, message, fields}|null, retryAfter}.
  function request(method, path, options) {
    options = options || {};
    var headers = { Accept: 'application/json' };
    var init = { method: method, headers: headers, credentials: options.credentials || 'same-origin' };
    if (options.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(options.json);
    }
    if (options.token) {
      headers.Authorization = 'Bearer ' + options.token;
    }
    return fetch(apiUrl(path), init).then(
      function (response) {
        return readBody(response).then(function (body) {
          var error = null;
          if (!response.ok) {
            error = body && body.error && typeof body.error.code === 'string'
              ? body.error
              : { code: response.status >= 500 ? 'internal' : 'bad_request', message: '' };
          }
          return {
            ok: response.ok,
            status: response.status,
            body: body,
            error: error,
            retryAfter: response.headers.get('Retry-After')
          };
        });
      },
      function () {
        return { ok: false, status: 0, body: null, error: { code: 'network', message: '' }, retryAfter: null };
      }
    );
  }

  function readBody(response) {
    if (response.status === 204) {
      return Promise.resolve(null);
    }
    return response.text().then(function (text) {
      if (!text) {
        return null;
      }
      try {
        return JSON.parse(text);
      } catch (e) {
        return null;
      }
    });
  }

  // ---- messages ----

  function messageFor(code, serverMessage, retryAfter) {
    var known = Object.prototype.hasOwnProperty.call(MESSAGES, code);
    var text = known ? MESSAGES[code] : serverMessage || 'Something went wrong (' + code + ').';
    if (code === 'rate_limited') {
      var seconds = parseInt(retryAfter, 10);
      text += isFinite(seconds) && seconds >= 0
        ? ' Try again in ' + seconds + (seconds === 1 ? ' second.' : ' seconds.')
        : ' Please wait a moment and try again.';
    }
    return text;
  }

  function showMessage(code, text) {
    el.message.textContent = text;
    el.message.setAttribute('data-code', code);
    el.message.className = 'message error';
    el.message.hidden = false;
  }

  function showNotice(text) {
    el.message.textContent = text;
    el.message.setAttribute('data-code', 'notice');
    el.message.className = 'message notice';
    el.message.hidden = false;
  }

  function clearMessage() {
    el.message.hidden = true;
    el.message.textContent = '';
    el.message.removeAttribute('data-code');
  }

  function showError(result) {
    var error = result.error;
    showMessage(error.code, messageFor(error.code, error.message, result.retryAfter));
  }

  function clearFieldErrors(form) {
    var errors = form.querySelectorAll('.field-error');
    for (var i = 0; i < errors.length; i++) {
      errors[i].textContent = '';
      errors[i].hidden = true;
    }
    var inputs = form.querySelectorAll('input');
    for (var j = 0; j < inputs.length; j++) {
      inputs[j].removeAttribute('aria-invalid');
    }
  }

  // Shows `error.fields` beside the inputs of `form`; returns the first invalid input.
  function showFieldErrors(form, fields) {
    var first = null;
    (fields || []).forEach(function (item) {
      var input = form.querySelector('input[name="' + item.field + '"]');
      if (!input) {
        return;
      }
      var slot = $(input.id + '-error');
      if (slot) {
        slot.textContent = slot.textContent ? slot.textContent + ' ' + item.message : item.message;
        slot.hidden = false;
      }
      input.setAttribute('aria-invalid', 'true');
      first = first || input;
    });
    return first;
  }

  // ---- views ----

  function setState(state) {
    document.body.setAttribute('data-state', state);
    el.loading.hidden = state !== 'loading';
    el.signedOut.hidden = state !== 'signed-out';
    el.signedIn.hidden = state !== 'signed-in';
    el.reset.hidden = state !== 'reset';
  }

  // One button per provider: "Link" when it is not linked yet, "Unlink" when it is.
  function renderLinks(providers) {
    el.reauthField.hidden = providers.indexOf('local') === -1;
    var buttons = el.linksForm.querySelectorAll('button[data-provider]');
    for (var i = 0; i < buttons.length; i++) {
      var provider = buttons[i].getAttribute('data-provider');
      var linked = providers.indexOf(provider) !== -1;
      buttons[i].setAttribute('data-action', linked ? 'unlink' : 'link');
      buttons[i].textContent = (linked ? 'Unlink ' : 'Link ') + PROVIDER_NAMES[provider];
    }
  }

  function onLinkButton(event) {
    var button = event.target.closest('button[data-provider]');
    if (!button) {
      return;
    }
    clearMessage();
    var provider = button.getAttribute('data-provider');
    var unlink = button.getAttribute('data-action') === 'unlink';
    var password = $('reauth-password').value;
    var options = { json: password ? { password: password } : {}, token: getToken(), credentials: 'include' };
    button.disabled = true;
    var call = unlink
      ? request('DELETE', '/api/auth/identities/' + provider, options)
      : request('POST', '/api/auth/' + provider + '/link', options);
    call.then(function (result) {
      button.disabled = false;
      if (!result.ok) {
        showError(result);
        return;
      }
      $('reauth-password').value = '';
      if (unlink) {
        loadCurrentUser().then(function () {
          showNotice(PROVIDER_NAMES[provider] + ' is no longer linked.');
        });
      } else {
        window.location.assign(result.body.authorize_url);
      }
    });
  }

  function showUser(user) {
    el.userName.textContent = user.name;
    el.userEmail.textContent = user.email;
    var providers = user.providers && user.providers.length ? user.providers : [user.provider];
    el.userProviders.textContent = providers
      .map(function (p) {
        return PROVIDER_NAMES[p] || p;
      })
      .join(', ');
    renderLinks(providers);
    renderSelfService(providers);
    el.verifyBannerEmail.textContent = user.email;
    el.verifyBanner.hidden = user.email_verified !== false;
    setState('signed-in');
    loadSessions();
  }

  function showSignedOut() {
    el.userName.textContent = '';
    el.userEmail.textContent = '';
    el.userProviders.textContent = '';
    sessionsSeq++;
    el.sessions.textContent = '';
    el.sessionsStatus.textContent = '';
    el.passwordForm.reset();
    clearFieldErrors(el.passwordForm);
    el.deleteForm.reset();
    hideDeleteConfirm();
    setState('signed-out');
  }

  // ---- self-service: sessions, password, account ----

  // Every self-service call sends both credentials: the JWT (if any) and the session cookie.
  function authed(json) {
    var options = { token: getToken(), credentials: 'include' };
    if (json !== undefined) {
      options.json = json;
    }
    return options;
  }

  // A 401 means this sign-in ended meanwhile (revoked, expired): show who, if anyone, is
  // signed in now, then say why the action failed.
  function showFailure(result) {
    if (result.status === 401) {
      return loadCurrentUser().then(function () {
        showError(result);
      });
    }
    showError(result);
    return Promise.resolve();
  }

  function renderSelfService(providers) {
    var hasPassword = providers.indexOf('local') !== -1;
    el.passwordCurrentField.hidden = !hasPassword;
    el.passwordTitle.textContent = hasPassword ? 'Change password' : 'Set a password';
    el.passwordSubmit.textContent = hasPassword ? 'Change password' : 'Set password';
    el.passwordIntro.textContent = hasPassword
      ? ''
      : 'Your account has no password yet. You can set one within 10 minutes of signing in, then log in with your email too.';
    el.passwordIntro.hidden = hasPassword;
    el.deletePasswordField.hidden = !hasPassword;
    hideDeleteConfirm();
  }

  // A short name for a user agent ("Chrome on Linux"); the full string goes in the title.
  function describeAgent(agent) {
    if (!agent) {
      return 'Unknown device';
    }
    var browsers = [
      [/Edg\//, 'Edge'], [/OPR\//, 'Opera'], [/Firefox\//, 'Firefox'],
      [/Chrom(e|ium)\//, 'Chrome'], [/Safari\//, 'Safari']
    ];
    var systems = [
      [/Android/, 'Android'], [/iPhone|iPad|iPod/, 'iOS'], [/Windows/, 'Windows'],
      [/Mac OS X|Macintosh/, 'macOS'], [/CrOS/, 'ChromeOS'], [/Linux/, 'Linux']
    ];
    function first(list) {
      for (var i = 0; i < list.length; i++) {
        if (list[i][0].test(agent)) {
          return list[i][1];
        }
      }
      return null;
    }
    var browser = first(browsers);
    var system = first(systems);
    if (!browser) {
      return agent.length > 60 ? agent.slice(0, 57) + '…' : agent;
    }
    return system ? browser + ' on ' + system : browser;
  }

  function timeAgo(iso) {
    var then = Date.parse(iso);
    if (!isFinite(then)) {
      return 'unknown';
    }
    var seconds = Math.round((Date.now() - then) / 1000);
    if (seconds < 60) {
      return 'just now';
    }
    var units = [[86400, 'day'], [3600, 'hour'], [60, 'minute']];
    for (var i = 0; i < units.length; i++) {
      var n = Math.floor(seconds / units[i][0]);
      if (n >= 1) {
        return n + ' ' + units[i][1] + (n === 1 ? '' : 's') + ' ago';
      }
    }
    return 'just now';
  }

  function textElement(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    node.textContent = text;
    return node;
  }

  function renderSessions(sessions) {
    el.sessions.textContent = '';
    if (!sessions.length) {
      el.sessionsStatus.textContent =
        'No browser sessions. Signing in with email and password keeps no session on the server: this page holds a token instead.';
      el.sessionsStatus.hidden = false;
      return;
    }
    el.sessionsStatus.textContent = '';
    el.sessionsStatus.hidden = true;
    sessions.forEach(function (session, index) {
      var item = document.createElement('li');
      item.setAttribute('data-testid', 'session-' + index);
      item.setAttribute('data-session-id', session.id);
      item.setAttribute('data-current', session.current ? 'true' : 'false');

      var about = document.createElement('div');
      var device = textElement('p', 'session-device', describeAgent(session.user_agent));
      device.title = session.user_agent || '';
      device.setAttribute('data-testid', 'session-device-' + index);
      if (session.current) {
        var badge = textElement('span', 'badge', 'This device');
        badge.setAttribute('data-testid', 'session-current');
        device.appendChild(document.createTextNode(' '));
        device.appendChild(badge);
      }
      about.appendChild(device);

      var meta = textElement('p', 'session-meta', '');
      meta.appendChild(document.createTextNode((session.ip || 'Unknown address') + ' · last seen '));
      var seen = textElement('time', '', timeAgo(session.last_seen_at));
      seen.setAttribute('datetime', session.last_seen_at);
      var when = new Date(session.last_seen_at);
      seen.title = isFinite(when.getTime()) ? when.toLocaleString() : '';
      meta.appendChild(seen);
      meta.setAttribute('data-testid', 'session-meta-' + index);
      about.appendChild(meta);
      item.appendChild(about);

      if (!session.current) {
        var revoke = textElement('button', '', 'Sign out');
        revoke.type = 'button';
        revoke.setAttribute('data-testid', 'revoke-' + index);
        revoke.setAttribute('data-session-id', session.id);
        revoke.setAttribute('aria-label', 'Sign out ' + describeAgent(session.user_agent) + ' (' + (session.ip || 'unknown address') + ')');
        item.appendChild(revoke);
      }
      el.sessions.appendChild(item);
    });
  }

  function loadSessions() {
    var seq = ++sessionsSeq;
    el.sessionsPanel.setAttribute('aria-busy', 'true');
    return request('GET', '/api/auth/sessions', authed()).then(function (result) {
      if (seq !== sessionsSeq) {
        return;
      }
      el.sessionsPanel.setAttribute('aria-busy', 'false');
      if (result.ok && result.body && Array.isArray(result.body.sessions)) {
        renderSessions(result.body.sessions);
        return;
      }
      el.sessions.textContent = '';
      el.sessionsStatus.textContent = 'Could not load your sessions.';
      el.sessionsStatus.hidden = false;
      if (result.status === 401) {
        return showFailure(result);
      }
    });
  }

  function onRevokeButton(event) {
    var button = event.target.closest('button[data-session-id]');
    if (!button) {
      return;
    }
    clearMessage();
    button.disabled = true;
    var id = button.getAttribute('data-session-id');
    request('DELETE', '/api/auth/sessions/' + encodeURIComponent(id), authed()).then(function (result) {
      if (result.ok) {
        loadSessions().then(function () {
          showNotice('That device is signed out.');
        });
        return;
      }
      button.disabled = false;
      if (result.status === 404) {
        // Already gone (expired, or ended elsewhere): show the list as it is now.
        loadSessions();
        showMessage('not_found', MESSAGES.session_not_found);
        return;
      }
      showFailure(result);
    });
  }

  function onChangePassword(event) {
    event.preventDefault();
    var form = el.passwordForm;
    clearMessage();
    clearFieldErrors(form);
    var payload = { new_password: el.passwordNew.value };
    if (!el.passwordCurrentField.hidden && el.passwordCurrent.value) {
      payload.current_password = el.passwordCurrent.value;
    }
    var hadPassword = !el.passwordCurrentField.hidden;
    setBusy(form, true);
    request('POST', '/api/auth/password', authed(payload)).then(function (result) {
      setBusy(form, false);
      if (result.ok && result.body && result.body.token) {
        setToken(result.body.token);
        form.reset();
        showUser(result.body.user);
        showNotice(hadPassword
          ? 'Your password is changed. Every other device is signed out.'
          : 'Your password is set. Every other device is signed out.');
        return;
      }
      showFailure(result);
      var code = result.error && result.error.code;
      var first = showFieldErrors(form, result.error && result.error.fields);
      if (code === 'reauthentication_required' && hadPassword) {
        el.passwordCurrent.setAttribute('aria-invalid', 'true');
        first = el.passwordCurrent;
      }
      if (first) {
        first.focus();
      }
    });
  }

  function hideDeleteConfirm() {
    el.deleteConfirmBox.hidden = true;
    el.deleteStart.hidden = false;
  }

  function onDeleteStart() {
    clearMessage();
    el.deleteStart.hidden = true;
    el.deleteConfirmBox.hidden = false;
    el.deleteCancel.focus();
  }

  function onDeleteCancel() {
    hideDeleteConfirm();
    el.deleteStart.focus();
  }

  function onDeleteConfirm(event) {
    event.preventDefault();
    if (el.deleteConfirmBox.hidden) {
      // Enter in the password field: ask first.
      onDeleteStart();
      return;
    }
    clearMessage();
    var password = el.deletePasswordField.hidden ? '' : el.deletePassword.value;
    setBusy(el.deleteForm, true);
    request('DELETE', '/api/auth/account', authed(password ? { password: password } : {})).then(function (result) {
      setBusy(el.deleteForm, false);
      if (result.ok) {
        forgetToken();
        showSignedOut();
        showNotice('Your account is deleted. You are signed out.');
        $('login-email').focus();
        return;
      }
      hideDeleteConfirm();
      showFailure(result);
      if (result.error && result.error.code === 'reauthentication_required' && !el.deletePasswordField.hidden) {
        el.deletePassword.focus();
      }
    });
  }

  // ---- flows ----

  // Asks the API who is signed in: the stored JWT if any, else the session cookie.
  function loadCurrentUser() {
    var token = getToken();
    var options = token ? { token: token } : { credentials: 'include' };
    return request('GET', '/api/auth/me', options).then(function (result) {
      if (result.ok && result.body && result.body.user) {
        showUser(result.body.user);
        return;
      }
      if (result.status === 401 && token) {
        // The stored token expired or was revoked: forget it, then try the cookie.
        forgetToken();
        return request('GET', '/api/auth/me', { credentials: 'include' }).then(function (again) {
          if (again.ok && again.body && again.body.user) {
            showUser(again.body.user);
          } else {
            showSignedOut();
            showError(result);
          }
        });
      }
      showSignedOut();
      if (result.status !== 401) {
        showError(result);
      }
    });
  }

  function setBusy(form, busy) {
    var button = form.querySelector('button[type="submit"]');
    button.disabled = busy;
    form.setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  function submitCredentials(form, path, payload) {
    clearMessage();
    clearFieldErrors(form);
    setBusy(form, true);
    return request('POST', path, { json: payload }).then(function (result) {
      setBusy(form, false);
      if (result.ok && result.body && result.body.token) {
        setToken(result.body.token);
        form.reset();
        showUser(result.body.user);
        el.signedInTitle.focus();
        return;
      }
      showError(result);
      var first = showFieldErrors(form, result.error && result.error.fields);
      if (first) {
        first.focus();
      }
    });
  }

  function onLogin(event) {
    event.preventDefault();
    submitCredentials(el.loginForm, '/api/auth/login', {
      email: $('login-email').value,
      password: $('login-password').value
    });
  }

  function onSignup(event) {
    event.preventDefault();
    submitCredentials(el.signupForm, '/api/auth/signup', {
      name: $('signup-name').value,
      email: $('signup-email').value,
      password: $('signup-password').value
    });
  }

  function onLogout() {
    clearMessage();
    el.logout.disabled = true;
    var token = getToken();
    request('POST', '/api/auth/logout', { token: token, credentials: 'include' }).then(function (result) {
      el.logout.disabled = false;
      forgetToken();
      showSignedOut();
      $('login-email').focus();
      if (result.ok || result.status === 401) {
        showNotice('You are signed out.');
      } else {
        showError(result);
      }
    });
  }

  // ---- password recovery and email verification ----

  function showForgot(open) {
    el.forgotForm.hidden = !open;
    el.loginForm.hidden = open;
    el.signupForm.hidden = open;
    if (open) {
      el.forgotEmail.value = $('login-email').value;
      el.forgotEmail.focus();
    } else {
      clearFieldErrors(el.forgotForm);
      $('login-email').focus();
    }
  }

  function onForgot(event) {
    event.preventDefault();
    var form = el.forgotForm;
    clearMessage();
    clearFieldErrors(form);
    setBusy(form, true);
    request('POST', '/api/auth/password/forgot', { json: { email: el.forgotEmail.value } }).then(function (result) {
      setBusy(form, false);
      if (result.ok) {
        showForgot(false);
        showNotice('If an account uses that address, a link to reset its password is on its way. It works once, for 30 minutes.');
        return;
      }
      showError(result);
      var first = showFieldErrors(form, result.error && result.error.fields);
      if (first) {
        first.focus();
      }
    });
  }

  function onReset(event) {
    event.preventDefault();
    var form = el.resetForm;
    clearMessage();
    clearFieldErrors(form);
    setBusy(form, true);
    var payload = { token: el.resetToken, password: el.resetPassword.value };
    request('POST', '/api/auth/password/reset', { json: payload }).then(function (result) {
      setBusy(form, false);
      if (result.ok && result.body && result.body.token) {
        el.resetToken = null;
        form.reset();
        setToken(result.body.token);
        showUser(result.body.user);
        showNotice('Your new password is set and you are signed in. Every other device is signed out.');
        return;
      }
      showError(result);
      if (result.error && result.error.code === 'invalid_token') {
        el.resetToken = null;
        form.reset();
        showSignedOut();
        showError(result);
        showForgot(true);
        return;
      }
      var first = showFieldErrors(form, result.error && result.error.fields);
      if (first) {
        first.focus();
      }
    });
  }

  function onResetCancel() {
    el.resetToken = null;
    el.resetForm.reset();
    clearMessage();
    loadCurrentUser();
  }

  function onResend() {
    clearMessage();
    el.verifyResend.disabled = true;
    request('POST', '/api/auth/email/resend', authed()).then(function (result) {
      el.verifyResend.disabled = false;
      if (result.ok) {
        showNotice('A new confirmation link is on its way to ' + el.verifyBannerEmail.textContent + '.');
        return;
      }
      if (result.error && result.error.code === 'email_already_verified') {
        el.verifyBanner.hidden = true;
      }
      showFailure(result);
    });
  }

  function verifyEmail(token) {
    return request('POST', '/api/auth/email/verify', { json: { token: token } }).then(function (result) {
      return loadCurrentUser().then(function () {
        if (result.ok) {
          showNotice('Your email address is confirmed.');
        } else {
          showError(result);
        }
      });
    });
  }

  // A mailed link opens {page}/reset-password?token=… or {page}/verify-email?token=…: read the
  // token, take it out of the address bar (and of history), and say what to do next.
  function consumeMailedLink() {
    var match = window.location.pathname.match(/^(.*\/)(reset-password|verify-email)$/);
    if (!match) {
      return null;
    }
    var params = new URLSearchParams(window.location.search);
    var token = params.get('token') || '';
    window.history.replaceState(null, '', match[1]);
    return { page: match[2], token: token };
  }

  // On return from an OAuth provider the API redirects here, with ?error=<code> on failure.
  function consumeOAuthResult() {
    var params = new URLSearchParams(window.location.search);
    var code = params.get('error');
    if (code === null) {
      return;
    }
    showMessage(code, messageFor(code, '', null));
    params.delete('error');
    params.delete('error_description');
    var query = params.toString();
    window.history.replaceState(
      window.history.state,
      '',
      window.location.pathname + (query ? '?' + query : '') + window.location.hash
    );
  }

  function init() {
    el.message = $('message');
    el.loading = $('view-loading');
    el.signedOut = $('view-signed-out');
    el.signedIn = $('view-signed-in');
    el.signedInTitle = $('signed-in-title');
    el.userName = $('user-name');
    el.userEmail = $('user-email');
    el.userProviders = $('user-providers');
    el.loginForm = $('login-form');
    el.signupForm = $('signup-form');
    el.logout = $('logout');
    el.linksForm = $('links-form');
    el.reauthField = $('reauth-field');
    el.sessionsPanel = $('sessions-panel');
    el.sessionsStatus = $('sessions-status');
    el.sessions = $('sessions');
    el.passwordForm = $('password-form');
    el.passwordTitle = $('password-title');
    el.passwordIntro = $('password-intro');
    el.passwordCurrentField = $('password-current-field');
    el.passwordCurrent = $('password-current');
    el.passwordNew = $('password-new');
    el.passwordSubmit = $('password-submit');
    el.deleteForm = $('delete-form');
    el.deletePasswordField = $('delete-password-field');
    el.deletePassword = $('delete-password');
    el.deleteStart = $('delete-start');
    el.deleteConfirmBox = $('delete-confirm-box');
    el.deleteCancel = $('delete-cancel');
    el.forgotForm = $('forgot-form');
    el.forgotEmail = $('forgot-email');
    el.reset = $('view-reset');
    el.resetForm = $('reset-form');
    el.resetPassword = $('reset-password');
    el.resetToken = null;
    el.verifyBanner = $('verify-banner');
    el.verifyBannerEmail = $('verify-banner-email');
    el.verifyResend = $('verify-resend');

    el.signedInTitle.setAttribute('tabindex', '-1');
    $('oauth-google').href = apiUrl('/api/auth/google');
    $('oauth-github').href = apiUrl('/api/auth/github');

    el.loginForm.addEventListener('submit', onLogin);
    el.signupForm.addEventListener('submit', onSignup);
    el.logout.addEventListener('click', onLogout);
    el.linksForm.addEventListener('click', onLinkButton);
    el.linksForm.addEventListener('submit', function (event) {
      event.preventDefault();
    });
    el.sessions.addEventListener('click', onRevokeButton);
    el.passwordForm.addEventListener('submit', onChangePassword);
    el.deleteForm.addEventListener('submit', onDeleteConfirm);
    el.deleteStart.addEventListener('click', onDeleteStart);
    el.deleteCancel.addEventListener('click', onDeleteCancel);

    $('forgot-open').addEventListener('click', function () {
      clearMessage();
      showForgot(true);
    });
    $('forgot-cancel').addEventListener('click', function () {
      showForgot(false);
    });
    el.forgotForm.addEventListener('submit', onForgot);
    el.resetForm.addEventListener('submit', onReset);
    $('reset-cancel').addEventListener('click', onResetCancel);
    el.verifyResend.addEventListener('click', onResend);

    consumeOAuthResult();
    var link = consumeMailedLink();
    if (link && link.page === 'reset-password' && link.token) {
      el.resetToken = link.token;
      setState('reset');
      el.resetPassword.focus();
      return;
    }
    if (link && link.page === 'verify-email' && link.token) {
      verifyEmail(link.token);
      return;
    }
    if (link) {
      showMessage('invalid_token', MESSAGES.invalid_token);
    }
    loadCurrentUser();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
