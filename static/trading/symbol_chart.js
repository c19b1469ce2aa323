// The price chart of a symbol's page (Chart.js, served from node_modules). The data is a
// json_script element: labels and prices as strings, drawn as a line.
(function () {
  "use strict";
  const source = document.getElementById("symbol-chart-data");
  const canvas = document.getElementById("symbol-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const styles = getComputedStyle(document.documentElement);
  const colour = styles.getPropertyValue(data.down ? "--bs-danger" : "--bs-success").trim() || "#198754";
  const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [{
        data: data.prices.map(Number),
        borderColor: colour,
        borderWidth: 2,
        pointRadius: 0,
        pointHitRadius: 6,
        tension: 0,
        fill: false,
      }],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: (ctx) => money.format(ctx.parsed.y) } },
      },
      scales: {
        x: { ticks: { maxTicksLimit: window.innerWidth < 576 ? 4 : 7, maxRotation: 0, autoSkip: true } },
        y: { ticks: { callback: (v) => money.format(v) } },
      },
    },
  });
})();
