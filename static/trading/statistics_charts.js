// Charts of the monthly statistics table (Chart.js, served from node_modules).
(function () {
  "use strict";
  const source = document.getElementById("statistics-data");
  if (!source || typeof Chart === "undefined") return;
  const rows = JSON.parse(source.textContent);
  const months = rows.map((r) => r.month);
  const whole = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  const dollars = new Intl.NumberFormat("en-US", {
    style: "currency", currency: "USD", maximumFractionDigits: 0, notation: "compact",
  });

  function chart(id, label, values, kind, format) {
    const canvas = document.getElementById(id);
    if (!canvas) return;
    new Chart(canvas, {
      type: kind,
      data: { labels: months, datasets: [{ label: label, data: values, borderWidth: 2 }] },
      options: {
        animation: false,
        plugins: {
          title: { display: true, text: label },
          legend: { display: false },
          tooltip: { callbacks: { label: (ctx) => format.format(ctx.parsed.y) } },
        },
        scales: { y: { beginAtZero: true, ticks: { callback: (v) => format.format(v) } } },
      },
    });
  }

  chart("chart-assets", "Customer assets", rows.map((r) => Number(r.customer_assets)), "line", dollars);
  chart("chart-accounts", "Customer accounts at month end", rows.map((r) => r.accounts_open), "line", whole);
  chart("chart-trades", "Trades", rows.map((r) => r.trades), "bar", whole);
  chart("chart-shares", "Shares traded", rows.map((r) => r.shares_traded), "bar", whole);
})();
