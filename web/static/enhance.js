// Progressive enhancement only: every page works the same without this script.
(() => {
  // Times in the reader's own time zone (the page says UTC).
  for (const time of document.querySelectorAll('time[data-local-time]')) {
    time.textContent = new Date(time.dateTime).toLocaleString(undefined, { dateStyle: 'long', timeStyle: 'short' });
  }

  // One press sends a form once: a second press would only meet "another request is in progress".
  for (const form of document.querySelectorAll('form[method="post"]')) {
    form.addEventListener('submit', () => {
      for (const button of form.querySelectorAll('button[type="submit"]')) button.disabled = true;
    });
  }
  // Coming back with the browser's Back button shows the page as it was left: usable again.
  window.addEventListener('pageshow', () => {
    for (const button of document.querySelectorAll('button[disabled]')) button.disabled = false;
  });
})();
