-- compose.yml: one database per MySQL-backed service, both owned by the `shop` user.
CREATE DATABASE IF NOT EXISTS shop_accounts CHARACTER SET utf8mb4;
CREATE DATABASE IF NOT EXISTS shop_payments CHARACTER SET utf8mb4;
GRANT ALL PRIVILEGES ON shop_accounts.* TO 'shop'@'%';
GRANT ALL PRIVILEGES ON shop_payments.* TO 'shop'@'%';
