// Step 4: the card is confirmed by Stripe.js (a SetupIntent); our server then buys the seats.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("purchase-form");
  if (!form || typeof Stripe === "undefined") {
    return;
  }
  const stripe = Stripe(form.dataset.publishableKey);
  const card = stripe.elements().create("card");
  card.mount("#card-element");
  const errors = document.getElementById("card-errors");
  const button = form.querySelector("button[type=submit]");

  form.addEventListener("submit", async (event) => {
    if (form.dataset.cardConfirmed === "true") {
      return;
    }
    event.preventDefault();
    button.disabled = true;
    errors.textContent = "";
    const result = await stripe.confirmCardSetup(form.dataset.clientSecret, {
      payment_method: { card, billing_details: { name: form.dataset.buyerName } },
    });
    if (result.error) {
      errors.textContent = (result.error.message || form.dataset.cardError);
      button.disabled = false;
      return;
    }
    form.elements.setup_intent.value = result.setupIntent.id;
    form.dataset.cardConfirmed = "true";
    form.submit();
  });

  // The total follows the plan chosen.
  form.querySelectorAll("input[name=plan]").forEach((radio) => {
    radio.addEventListener("change", () => {
      document.getElementById("purchase-total").textContent = radio.dataset.total;
    });
  });
});
