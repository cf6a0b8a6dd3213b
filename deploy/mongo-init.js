// compose.yml: run once, when MongoDB initialises its data volume. The items service gets a
// user of its own, with rights on its database only (not the root account).
db.getSiblingDB("shop_items").createUser({
  user: "shop",
  pwd: process.env.MONGO_SHOP_PASSWORD,
  roles: [{ role: "readWrite", db: "shop_items" }],
});
