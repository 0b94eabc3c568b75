/**
 * The Connect page's browser script (plain JavaScript, sent inline). It only ever writes text with
 * `textContent`, never HTML. No template literals inside: this is itself a template literal.
 */
export const CONNECT_PAGE_SCRIPT = String.raw`
"use strict";
(function () {
  var query = new URLSearchParams(location.search);
  var token = query.get("connect_token") || query.get("connectToken") || "";
  function list(name) { return (query.get(name) || "").split(",").map(function (v) { return v.trim(); }).filter(Boolean); }
  var filters = {
    countries: list("countries"),
    types: list("connector_types"),
    ids: list("connector_ids").map(Number),
    products: list("products"),
    sandbox: query.get("with_sandbox") === "true",
    updateItem: query.get("update_item") || ""
  };
  var TYPE_LABELS = { PERSONAL_BANK: "Personal bank", BUSINESS_BANK: "Business bank", INVOICE: "Invoices", INVESTMENT: "Investments",
    TELECOMMUNICATION: "Telecom", DIGITAL_ECONOMY: "Digital economy", PAYMENT_ACCOUNT: "Payment account", OTHER: "Other" };
  var main = document.getElementById("main");

  /** The token's options (oauthRedirectUri), read without verifying: the simulator verifies it on every call. */
  var claims = (function () {
    try {
      var part = token.split(".")[1] || "";
      return JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/")));
    } catch (error) { return {}; }
  })();
  var redirectUri = (claims && claims.options && claims.options.oauthRedirectUri) || "";
  var targetOrigin = "*";
  try { if (redirectUri) targetOrigin = new URL(redirectUri).origin; } catch (error) { /* keep "*" */ }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "onclick" || key === "onsubmit" || key === "oninput") node[key] = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }
  function show(nodes) {
    main.replaceChildren.apply(main, nodes.filter(Boolean));
    var focus = main.querySelector("[autofocus], h1");
    if (focus) { if (focus.tagName === "H1") focus.setAttribute("tabindex", "-1"); focus.focus(); }
  }

  /** Tells the app (the window that opened Connect, or the page framing it), like Pluggy Connect's callbacks. */
  function emit(event, payload) {
    var target = window.opener || (window.parent !== window ? window.parent : null);
    if (!target) return false;
    var message = Object.assign({ type: "pluggy-connect", event: event }, payload || {});
    target.postMessage(message, targetOrigin);
    return true;
  }

  function api(method, path, body) {
    var init = { method: method, headers: { "X-API-KEY": token } };
    if (body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (json) {
        if (response.status === 200) return json;
        var error = new Error((json && json.message) || ("Pluggy answered " + response.status));
        error.status = response.status;
        error.body = json;
        throw error;
      });
    });
  }

  function logo(connector) {
    var hex = /^[0-9a-f]{6}$/i.test(connector.primaryColor || "") ? connector.primaryColor : "555555";
    var rgb = [0, 2, 4].map(function (i) { return parseInt(hex.substr(i, 2), 16); });
    var light = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] > 170;
    return el("span", { class: "logo", style: "background:#" + hex + ";color:" + (light ? "#1d1d29" : "#fff"), "aria-hidden": "true", text: (connector.name || "?").charAt(0) });
  }

  function fail(message) {
    show([el("h1", { text: "Something went wrong" }), el("div", { role: "alert", text: message })]);
  }

  function showConnectors(connectors) {
    var search = el("input", { id: "search", type: "search", placeholder: "Bank name", autocomplete: "off" });
    var ul = el("ul", { class: "connectors", "aria-label": "Institutions" });
    function render() {
      var term = search.value.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase();
      var shown = connectors.filter(function (c) { return c.name.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase().indexOf(term) >= 0; });
      ul.replaceChildren.apply(ul, shown.map(function (connector) {
        var meta = (TYPE_LABELS[connector.type] || connector.type) + " · " + connector.country + (connector.isSandbox ? " · sandbox" : "") + (connector.oauth ? " · Open Finance" : "");
        return el("li", {}, [el("button", { type: "button", "data-connector-id": String(connector.id), onclick: function () { showLogin(connector, null, ""); } }, [
          logo(connector), el("span", {}, [el("span", { class: "connector-name", text: connector.name }), el("span", { class: "connector-meta", text: meta })])
        ])]);
      }));
      if (shown.length === 0) ul.replaceChildren(el("li", { class: "muted", text: "No institution matches." }));
    }
    search.oninput = render;
    render();
    show([el("h1", { text: "Select your institution" }), el("label", { for: "search", text: "Search" }), search, ul]);
  }

  /** The credentials form; after a failed attempt it keeps what was typed, except passwords. */
  function showLogin(connector, item, error, typed) {
    var nodes = [];
    if (!filters.updateItem) nodes.push(el("button", { type: "button", class: "link", onclick: start, text: "← All institutions" }));
    nodes.push(el("h1", { text: (filters.updateItem ? "Update your " : "Connect ") + connector.name }));
    if (error) nodes.push(el("div", { role: "alert", text: error }));
    var form = el("form", { novalidate: "" });
    if (connector.oauth) {
      form.appendChild(el("p", { text: "You would now go to " + connector.name + " to authorize sharing your data through Open Finance. In this simulator no bank is contacted: authorizing connects a test account." }));
      form.appendChild(el("button", { type: "submit", class: "primary", text: "Authorize at " + connector.name }));
    } else {
      var focused = false;
      connector.credentials.filter(function (c) { return !c.mfa; }).forEach(function (credential) {
        var id = "credential-" + credential.name;
        form.appendChild(el("label", { for: id, text: credential.label }));
        var input = el("input", { id: id, name: credential.name, type: credential.type === "password" ? "password" : "text",
          autocomplete: "off", placeholder: credential.placeholder || "" });
        if (typed && credential.type !== "password" && typed[credential.name]) input.value = typed[credential.name];
        if (credential.type === "number") input.setAttribute("inputmode", "numeric");
        if (!credential.optional) input.setAttribute("required", "");
        if (!focused && !input.value) { input.setAttribute("autofocus", ""); focused = true; }
        form.appendChild(input);
        if (credential.assistiveText) form.appendChild(el("div", { class: "hint", text: credential.assistiveText }));
      });
      form.appendChild(el("button", { type: "submit", class: "primary", text: "Connect" }));
    }
    form.onsubmit = function (event) {
      event.preventDefault();
      var parameters = {};
      Array.prototype.forEach.call(form.querySelectorAll("input"), function (input) { parameters[input.name] = input.value; });
      login(connector, item, parameters);
    };
    nodes.push(form);
    show(nodes);
  }

  function showWaiting(connector, text) {
    show([el("h1", { text: text + " " + connector.name + "…" }), el("div", { class: "spinner", role: "status", "aria-label": "Connecting" })]);
  }

  /** Polls the item until its login settles (Pluggy Connect does the same). */
  function settled(itemId) {
    var deadline = Date.now() + 60000;
    return new Promise(function (resolve, reject) {
      (function poll() {
        api("GET", "/items/" + encodeURIComponent(itemId)).then(function (item) {
          if (item.status !== "UPDATING") return resolve(item);
          if (Date.now() > deadline) return reject(new Error("The institution is taking too long; try again later."));
          setTimeout(poll, 300);
        }, reject);
      })();
    });
  }

  function login(connector, item, parameters) {
    showWaiting(connector, "Connecting to");
    var request = item
      ? api("PATCH", "/items/" + encodeURIComponent(item.id), { parameters: parameters })
      : api("POST", "/items", { connectorId: connector.id, parameters: parameters });
    request.then(function (created) { return settled(created.id); }).then(function (result) { after(connector, result, parameters); }, function (error) {
      var body = error.body || {};
      if (body.codeDescription === "ITEM_USER_ALREADY_EXISTS") {
        emit("onError", { error: { message: error.message, data: { codeDescription: body.codeDescription, items: body.items || [] } } });
        show([el("h1", { text: connector.name + " is already connected" }), el("div", { role: "alert", text: error.message }),
          el("button", { type: "button", class: "primary", onclick: start, text: "Choose another institution" })]);
        return;
      }
      var details = (body.details || []).map(function (d) { return d.message; }).join("; ");
      showLogin(connector, item, details || error.message, parameters);
    });
  }

  function after(connector, item, typed) {
    if (item.status === "UPDATED") return succeed(connector, item);
    if (item.status === "WAITING_USER_INPUT" && item.parameter) return showMfa(connector, item, typed);
    showLogin(connector, item, (item.error && item.error.message) || ("The connection ended as " + item.executionStatus), typed);
  }

  function showMfa(connector, item, typed) {
    var parameter = item.parameter;
    var input = el("input", { id: "mfa", name: parameter.name, type: "text", inputmode: "numeric", autocomplete: "one-time-code", placeholder: parameter.placeholder || "", required: "", autofocus: "" });
    var form = el("form", { novalidate: "" }, [
      el("p", { text: parameter.instructions || "Your bank asks for a verification code." }),
      el("label", { for: "mfa", text: parameter.label }), input,
      el("button", { type: "submit", class: "primary", text: "Send" })
    ]);
    form.onsubmit = function (event) {
      event.preventDefault();
      var body = {};
      body[parameter.name] = input.value;
      showWaiting(connector, "Verifying with");
      api("POST", "/items/" + encodeURIComponent(item.id) + "/mfa", body)
        .then(function () { return settled(item.id); })
        .then(function (result) { after(connector, result, typed); }, function (error) { showLogin(connector, item, error.message, typed); });
    };
    show([el("h1", { text: "Verification code" }), form]);
  }

  function succeed(connector, item) {
    show([el("div", { class: "success", "aria-hidden": "true", text: "✓" }), el("h1", { text: connector.name + " connected" }),
      el("p", { class: "muted", text: "You can close this window." }),
      el("button", { type: "button", class: "primary", onclick: close, text: "Done" })]);
    if (emit("onSuccess", { item: item })) return;
    if (redirectUri) {
      var next = new URL(redirectUri);
      next.searchParams.set("item_id", item.id);
      location.assign(next.toString());
    }
  }

  /** Closes Connect: the app that opened or framed it is told; opened in a tab, it goes back to the app. */
  function close() {
    if (!emit("onClose", {}) && redirectUri) return location.assign(redirectUri);
    window.close();
  }
  document.getElementById("close").onclick = close;

  function start() {
    if (!token) return fail("This page needs a connect token (?connect_token=...). Ask the app for a new one.");
    var request;
    if (filters.updateItem) {
      request = api("GET", "/items/" + encodeURIComponent(filters.updateItem)).then(function (item) { showLogin(item.connector, item, ""); });
    } else {
      var params = new URLSearchParams();
      if (filters.countries.length) params.set("countries", filters.countries.join(","));
      if (filters.types.length) params.set("types", filters.types.join(","));
      if (filters.sandbox) params.set("sandbox", "true");
      request = api("GET", "/connectors?" + params.toString()).then(function (page) {
        var connectors = page.results.filter(function (c) {
          return (filters.ids.length === 0 || filters.ids.indexOf(c.id) >= 0) &&
            filters.products.every(function (p) { return c.products.indexOf(p) >= 0; });
        }).sort(function (a, b) { return a.name.localeCompare(b.name, "pt-BR"); });
        showConnectors(connectors);
      });
    }
    request.catch(function (error) {
      var message = error.status === 401 ? "This connect token is invalid or has expired. Ask the app for a new one." : error.message;
      emit("onError", { error: { message: message } });
      fail(message);
    });
  }
  start();
})();
`;
