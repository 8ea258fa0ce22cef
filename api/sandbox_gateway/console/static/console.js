// The console's few lines of script: local times, the as-of picker, and live updates from the gateway's
// event stream (Server-Sent Events): each event in the principal's scope makes the page's live regions
// reload (htmx, `hx-trigger="console-update from:body"`).
(function () {
  "use strict";
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  function pad(n) { return String(n).padStart(2, "0"); }
  function local(ts) {
    var d = new Date(ts * 1000);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }
  function localTimes(root) {
    root.querySelectorAll("time[data-ts]").forEach(function (el) {
      el.textContent = local(Number(el.dataset.ts));
      el.title = el.getAttribute("datetime") + " (UTC)";
    });
    root.querySelectorAll(".tzname").forEach(function (el) { el.textContent = zone; });
  }
  function asOfPicker() {
    var form = document.querySelector("form[data-asof]");
    if (!form) return;
    var picker = form.querySelector("input[type=datetime-local]");
    var hidden = form.querySelector("input[name=at]");
    if (hidden.value) {
      var d = new Date(Number(hidden.value) * 1000);
      picker.value = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
        pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
    }
    form.addEventListener("submit", function () {
      hidden.value = picker.value ? String(Math.floor(new Date(picker.value).getTime() / 1000)) : "";
      picker.disabled = true;  // only `at` (Unix time) goes to the server
    });
  }
  function live() {
    var url = document.body.dataset.live;
    var status = document.getElementById("live-status");
    if (!url || !window.EventSource) return;
    var source = new EventSource(url);
    var pending = null;
    source.onopen = function () { if (status) status.textContent = "live"; };
    source.onerror = function () { if (status) status.textContent = "reconnecting…"; };
    source.onmessage = null;
    var any = function (event) {
      window.consoleLastEvent = event.lastEventId;
      if (pending) return;
      pending = setTimeout(function () {
        pending = null;
        document.body.dispatchEvent(new CustomEvent("console-update"));
      }, 100);
    };
    // Every named event (the stream names each message after its chain event).
    var names = ["Transfer", "CrossBorderTransferRequested", "CrossBorderTransferApproved",
      "CrossBorderTransferSettled", "CrossBorderTransferRejected", "CrossBorderTransferExpired",
      "AddressFrozen", "TokensFrozen", "TokensUnfrozen", "Paused", "Unpaused", "IssuanceApproved",
      "DistributionDeclared", "DistributionFunded", "PaymentMade", "PaymentHeld", "InvestorRegistered",
      "InvestorUpdated", "InvestorSuspended", "InvestorReinstated", "WalletLinked",
      // A request the rulebook refused in the principal's remit (the gateway's record, not a chain event).
      "Refused"];
    names.forEach(function (name) { source.addEventListener(name, any); });
    source.addEventListener("message", any);
    window.consoleEvents = source;
  }
  if (window.htmx) {
    // Refusals come back as 4xx pages to show in place (htmx swaps only 2xx by default).
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "4..", swap: true, error: false },
      { code: "...", swap: false, error: true }
    ];
  }
  // A live refresh never replaces a form someone is filling in (a focused field, or one whose value differs
  // from what the page was rendered with): the region is marked stale, says so, and refreshes once the form is
  // submitted (whose answer re-renders the region) or left as it was.
  function selectChanged(select) {
    var options = select.options, j;
    if (select.multiple) {
      for (j = 0; j < options.length; j++) { if (options[j].selected !== options[j].defaultSelected) return true; }
      return false;
    }
    // A single select with no option marked `selected` shows its first one.
    var initial = 0;
    for (j = 0; j < options.length; j++) { if (options[j].defaultSelected) { initial = j; break; } }
    return options.length > 0 && select.selectedIndex !== initial;
  }
  function editing(region) {
    var fields = region.querySelectorAll("input:not([type=hidden]), textarea, select");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f === document.activeElement) return true;
      if (f.type === "checkbox" || f.type === "radio") { if (f.checked !== f.defaultChecked) return true; }
      else if (f.tagName === "SELECT") { if (selectChanged(f)) return true; }
      else if (f.value !== f.defaultValue) return true;
    }
    return false;
  }
  function defer(region) {
    region.dataset.stale = "1";
    if (region.querySelector(".stale-note")) return;
    var note = document.createElement("p");
    note.className = "notice stale-note";
    note.setAttribute("role", "status");
    note.dataset.testid = "stale-note";
    note.textContent = "New events arrived: this part refreshes when you submit or clear your form.";
    region.insertBefore(note, region.firstChild);
  }
  function liveRefresh(detail) {
    var event = detail.triggeringEvent || (detail.requestConfig && detail.requestConfig.triggeringEvent);
    return !!event && event.type === "console-update";
  }
  document.addEventListener("htmx:confirm", function (e) {
    if (liveRefresh(e.detail) && editing(e.detail.elt)) { e.preventDefault(); defer(e.detail.elt); }
  });
  document.addEventListener("htmx:beforeSwap", function (e) {
    // The form may have been started while the refresh was on its way.
    if (liveRefresh(e.detail) && editing(e.detail.target)) { e.preventDefault(); defer(e.detail.target); }
  });
  setInterval(function () {
    var stale = document.querySelectorAll("[data-stale]");
    for (var i = 0; i < stale.length; i++) {
      if (!editing(stale[i])) { document.body.dispatchEvent(new CustomEvent("console-update")); return; }
    }
  }, 1000);
  document.addEventListener("DOMContentLoaded", function () {
    localTimes(document);
    asOfPicker();
    live();
  });
  document.addEventListener("htmx:afterSwap", function (e) { localTimes(e.target.parentNode || document); });
})();
