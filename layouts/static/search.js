// Site search over the Pagefind index (pagefind/ next to the pages, built with the site).
// Progressive enhancement: without this script the form submits ?q= to this same page.
const form = document.getElementById("search-form");
const input = document.getElementById("search-q");
const status = document.getElementById("search-status");
const list = document.getElementById("search-results");
const LIMIT = 20;
let pagefind = null;
let serial = 0;
let timer = 0;

async function engine() {
  if (!pagefind) {
    pagefind = await import(form.dataset.pagefind);
    await pagefind.init();
  }
  return pagefind;
}

function result(data) {
  const item = document.createElement("li");
  const heading = document.createElement("h2");
  const link = document.createElement("a");
  link.href = data.url;
  link.textContent = (data.meta && data.meta.title) || data.url;
  heading.append(link);
  const excerpt = document.createElement("p");
  // Pagefind escapes the page text and wraps the matched words in <mark>.
  excerpt.innerHTML = data.excerpt;
  item.append(heading, excerpt);
  return item;
}

async function run(raw) {
  const query = raw.trim();
  const mine = ++serial;
  if (!query) {
    list.replaceChildren();
    status.textContent = "";
    return;
  }
  status.textContent = "Searching…";
  try {
    const found = await (await engine()).search(query);
    const data = await Promise.all(found.results.slice(0, LIMIT).map((r) => r.data()));
    if (mine !== serial) return; // a newer query has started
    list.replaceChildren(...data.map(result));
    const count = found.results.length;
    status.textContent = count === 0
      ? `No stories match “${query}”.`
      : `${count} ${count === 1 ? "story matches" : "stories match"} “${query}”` +
        (count > LIMIT ? `; showing the first ${LIMIT}.` : ".");
  } catch (error) {
    if (mine !== serial) return;
    list.replaceChildren();
    status.textContent = "Search is not available right now: browse by section, topic, author or date below.";
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const query = input.value.trim();
  history.replaceState(null, "", query ? `?q=${encodeURIComponent(query)}` : location.pathname);
  run(query);
});
input.addEventListener("input", () => {
  clearTimeout(timer);
  timer = setTimeout(() => run(input.value), 150);
});
const initial = new URLSearchParams(location.search).get("q");
if (initial) {
  input.value = initial;
  run(initial);
}
