// Tierdesk console: suggestions as you type, queues that refresh without a reload, and a ticket
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
  function poll(table) {
    setInterval(function () {
      fetch(table.dataset.poll, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (rows) {
          if (rows === null) { return; }
          var body = document.createElement("tbody");
          body.innerHTML = rows; // the server escaped every value in these rows
          table.replaceChild(body, table.tBodies[0]);
        })
        .catch(function () {});
    }, 5000);
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
    document.querySelectorAll("table[data-poll]").forEach(poll);
  });
})();
