// Tierdesk console: suggestions as you type, notifications and queues that update live (no polling), and a ticket
// link's key taken from the address's fragment and posted (the fragment never reaches a server).
// Text from the server is put in with textContent, never as markup.
(function () {
  function suggest(input) {
    var list = document.getElementById(input.dataset.suggest);
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var text = input.value;
        var description = document.getElementById("description");
        if (description && input.id === "subject") { text = text + " " + description.value; }
        fetch("/suggest?q=" + encodeURIComponent(text.slice(0, 200)), { credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : []; })
          .then(function (articles) {
            list.replaceChildren();
            articles.forEach(function (article) {
              var item = document.createElement("li");
              var link = document.createElement("a");
              link.href = "/kb/" + article.id;
              link.className = "article";
              link.textContent = article.title;
              item.appendChild(link);
              list.appendChild(item);
            });
          })
          .catch(function () {});
      }, 250);
    });
  }
  // A queue's rows, fetched again when the stream says its level changed.
  function refresh(table) {
    fetch(table.dataset.refresh, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (rows) {
        if (rows === null) { return; }
        var body = document.createElement("tbody");
        body.innerHTML = rows; // the server escaped every value in these rows
        table.replaceChild(body, table.tBodies[0]);
      })
      .catch(function () {});
  }
  // The live stream (Server-Sent Events, relayed by the console with the session's token): the
  // agent's new notifications update the header's count and short list; "queue" refreshes the
  // queue tables of that level. The browser reconnects by itself and resumes with Last-Event-ID.
  function live() {
    var source = document.body.dataset.stream;
    if (!source || !window.EventSource) { return; }
    var count = document.getElementById("unread-count");
    var list = document.getElementById("latest-notifications");
    var box = document.getElementById("live-notifications");
    var unread = 0;
    var streamed = [];
    function show(notification) {
      if (!list) { return; }
      var item = document.createElement("li");
      item.className = "notification";
      item.dataset.notification = notification.id;
      if (notification.ticketId) {
        var link = document.createElement("a");
        link.href = "/agent/tickets/" + notification.ticketId;
        link.textContent = notification.text;
        item.appendChild(link);
      } else {
        item.textContent = notification.text;
      }
      list.insertBefore(item, list.firstChild);
      while (list.children.length > 5) { list.removeChild(list.lastChild); }
      box.hidden = false;
    }
    function setCount(value) {
      unread = value;
      if (count) { count.textContent = value > 0 ? String(value) : ""; }
    }
    if (count) {
      fetch(count.dataset.latest, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (page) {
          if (!page) { return; }
          // What the stream brought before this answer and is not in it yet counts on top.
          var newest = page.items.length ? page.items[0].seq : 0;
          var later = streamed.filter(function (n) { return n.seq > newest; });
          setCount(page.unread + later.length);
          count.dataset.loaded = "true";
          page.items.filter(function (n) { return !n.readAt; }).reverse().forEach(show);
          later.forEach(show);
        })
        .catch(function () {});
    }
    var events = new EventSource(source);
    events.addEventListener("notification", function (event) {
      var notification = JSON.parse(event.data);
      streamed.push(notification);
      if (streamed.length > 50) { streamed.shift(); }
      setCount(unread + 1);
      if (!count || count.dataset.loaded) { show(notification); }
    });
    events.addEventListener("queue", function (event) {
      var tier = String(JSON.parse(event.data).tier);
      document.querySelectorAll("table[data-refresh]").forEach(function (table) {
        if (table.dataset.tier === tier) { refresh(table); }
      });
    });
  }
  // /t/{id}#token=...: the key leaves the address (and the history) at once, and goes to the
  // console in the page's form, which checks it with intake before keeping it.
  function openLink() {
    var match = /^#token=([A-Za-z0-9_-]{1,200})$/.exec(location.hash);
    if (!match) { return; }
    history.replaceState(null, "", location.pathname + location.search);
    var form = document.querySelector("form[data-open-link]");
    if (!form) { return; }
    form.elements.token.value = match[1];
    form.submit();
  }
  document.addEventListener("DOMContentLoaded", function () {
    openLink();
    document.querySelectorAll("[data-suggest]").forEach(suggest);
    live();
  });
})();
