/*
 * Tokui tracking snippet. Paste into every page of the shop:
 *
 *   <script src="https://tokui.example/static/tokui.js" data-key="tk_pub_..." async></script>
 *
 * It sends a page_view on load, a product_view when the page has an element with
 * data-tokui-product-id, a cart_add or favorite when an element with
 * data-tokui-cart-add="PRODUCT_ID" or data-tokui-favorite="PRODUCT_ID" is clicked, and
 * whatever the page asks through the command queue:
 *
 *   window.tokui = window.tokui || function () { (tokui.q = tokui.q || []).push(arguments); };
 *   tokui("product_view", { product_id: "P001", category: "お茶" });
 *   tokui("cart_add", { product_id: "P001", quantity: 2 });
 *   tokui("identify", { customer_id: "C001" });   // at login: links this browser
 *   tokui("reset");                                // at logout
 *
 * The anonymous id is 128 random bits (crypto.getRandomValues) kept in a first-party
 * cookie and localStorage. No dependency, no cookie of Tokui's own domain: requests go
 * without credentials, as text/plain so that browsers send them without a preflight.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !window.crypto || !window.JSON) {
    return;
  }
  var key = script.getAttribute("data-key");
  if (!key) {
    return;
  }
  var endpoint = script.getAttribute("data-endpoint") || new URL("/api/v1/events", script.src).href;
  var url = endpoint + (endpoint.indexOf("?") < 0 ? "?" : "&") + "key=" + encodeURIComponent(key);

  var ANON = "tokui_aid";
  var CUSTOMER = "tokui_cid";
  var SESSION = "tokui_sid";
  var TWO_YEARS = 2 * 365 * 24 * 60 * 60;
  var MAX_BATCH = 50;
  var FLUSH_MS = 500;
  var PRODUCT_EVENTS = { product_view: 1, cart_add: 1, cart_remove: 1, favorite: 1 };
  var TYPES = {
    page_view: 1, product_view: 1, category_view: 1, search: 1,
    cart_add: 1, cart_remove: 1, favorite: 1
  };

  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var out = "";
    for (var i = 0; i < bytes.length; i++) {
      out += (bytes[i] + 256).toString(16).slice(1);
    }
    return out;
  }

  function storageGet(store, name) {
    try { return store.getItem(name); } catch (e) { return null; }
  }

  function storageSet(store, name, value) {
    try {
      if (value === null) { store.removeItem(name); } else { store.setItem(name, value); }
    } catch (e) { /* private mode: the cookie still holds the id */ }
  }

  function cookieGet(name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) { return decodeURIComponent(parts[i].slice(eq + 1)); }
    }
    return null;
  }

  function cookieSet(name, value) {
    var secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = name + "=" + encodeURIComponent(value) + "; Max-Age=" + TWO_YEARS +
      "; Path=/; SameSite=Lax" + secure;
  }

  function validId(value) {
    return typeof value === "string" && /^[0-9a-f]{32}$/.test(value);
  }

  var anonymousId = storageGet(window.localStorage, ANON) || cookieGet(ANON);
  if (!validId(anonymousId)) {
    anonymousId = randomId();
  }
  storageSet(window.localStorage, ANON, anonymousId);
  cookieSet(ANON, anonymousId);

  var customerId = storageGet(window.localStorage, CUSTOMER);
  var sessionId = storageGet(window.sessionStorage, SESSION);
  if (!validId(sessionId)) {
    sessionId = randomId();
    storageSet(window.sessionStorage, SESSION, sessionId);
  }

  var queue = [];
  var timer = null;

  function send(events, beacon) {
    var body = JSON.stringify({ events: events });
    if (beacon && navigator.sendBeacon) {
      if (navigator.sendBeacon(url, new Blob([body], { type: "text/plain" }))) {
        return;
      }
    }
    if (window.fetch) {
      window.fetch(url, {
        method: "POST",
        body: body,
        headers: { "Content-Type": "text/plain" },
        credentials: "omit",
        keepalive: true,
        mode: "cors"
      }).catch(function () { /* tracking must never break the shop's page */ });
    }
  }

  function flush(beacon) {
    if (timer !== null) {
      clearTimeout(timer);
      timer = null;
    }
    while (queue.length) {
      send(queue.splice(0, MAX_BATCH), beacon);
    }
  }

  function text(value, limit) {
    if (value === undefined || value === null || value === "") { return null; }
    return String(value).slice(0, limit);
  }

  function enqueue(type, props) {
    props = props || {};
    var event = {
      event_id: randomId(),
      occurred_at: new Date().toISOString(),
      event_type: type,
      anonymous_id: anonymousId,
      customer_id: customerId,
      session_id: sessionId,
      page_url: text(location.href, 2048),
      referrer: text(document.referrer, 2048)
    };
    var productId = text(props.product_id, 128);
    if (productId) { event.product_id = productId; }
    var category = text(props.category, 200);
    if (category) { event.category = category; }
    var query = text(props.search_query, 500);
    if (query) { event.search_query = query; }
    if (props.quantity !== undefined) {
      var quantity = parseInt(props.quantity, 10);
      if (quantity >= 1 && quantity <= 10000) { event.quantity = quantity; }
    }
    if (PRODUCT_EVENTS[type] && !event.product_id) {
      if (window.console) { window.console.warn("tokui: " + type + " needs a product_id"); }
      return;
    }
    queue.push(event);
    if (queue.length >= MAX_BATCH) {
      flush(false);
    } else if (timer === null) {
      timer = setTimeout(function () { flush(false); }, FLUSH_MS);
    }
  }

  function command(name, props) {
    if (name === "identify") {
      var id = props && text(props.customer_id, 128);
      if (!id) { return; }
      customerId = id;
      storageSet(window.localStorage, CUSTOMER, id);
      enqueue("login", {});
      flush(false);
    } else if (name === "reset") {
      flush(false);
      customerId = null;
      storageSet(window.localStorage, CUSTOMER, null);
    } else if (TYPES[name]) {
      enqueue(name, props);
    } else if (window.console) {
      window.console.warn("tokui: unknown command " + name);
    }
  }

  var pending = (window.tokui && window.tokui.q) || [];
  window.tokui = function () { command(arguments[0], arguments[1]); };

  enqueue("page_view", {});
  var product = document.querySelector("[data-tokui-product-id]");
  if (product) {
    enqueue("product_view", {
      product_id: product.getAttribute("data-tokui-product-id"),
      category: product.getAttribute("data-tokui-category")
    });
  }
  for (var i = 0; i < pending.length; i++) {
    command(pending[i][0], pending[i][1]);
  }

  document.addEventListener("click", function (e) {
    var target = e.target && e.target.closest ? e.target.closest("[data-tokui-cart-add],[data-tokui-favorite]") : null;
    if (!target) { return; }
    if (target.hasAttribute("data-tokui-cart-add")) {
      enqueue("cart_add", {
        product_id: target.getAttribute("data-tokui-cart-add"),
        quantity: target.getAttribute("data-tokui-quantity") || 1
      });
    } else {
      enqueue("favorite", { product_id: target.getAttribute("data-tokui-favorite") });
    }
  }, true);

  // The page may be closing: sendBeacon outlives it.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flush(true); }
  });
  window.addEventListener("pagehide", function () { flush(true); });
})();
