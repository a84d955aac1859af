SELECT
  "t2"."customer_id",
  "t2"."orders",
  "t2"."revenue",
  "t2"."first_order",
  "t2"."last_order",
  DATEDIFF(DAY, "t2"."last_order", DATE_FROM_PARTS(2026, 10, 31)) AS "recency_days",
  CASE
    WHEN "t2"."orders" = 1
    THEN 'first'
    WHEN "t2"."orders" < 5
    THEN 'repeat'
    ELSE 'loyal'
  END AS "stage"
FROM (
  SELECT
    "t1"."customer_id",
    COUNT("t1"."order_id") AS "orders",
    SUM("t1"."total") AS "revenue",
    MIN("t1"."order_date") AS "first_order",
    MAX("t1"."order_date") AS "last_order"
  FROM (
    SELECT
      "t0"."order_id",
      "t0"."customer_id",
      "t0"."ordered_at",
      "t0"."status",
      "t0"."channel",
      "t0"."subtotal",
      "t0"."discount",
      "t0"."shipping_fee",
      "t0"."points_used",
      "t0"."total",
      "t0"."points_earned",
      "t0"."coupon_code",
      "t0"."subscription_id",
      "t0"."payment_method",
      "t0"."shipping_prefecture",
      "t0"."is_gift",
      TO_DATE(DATEADD(HOUR, '9', "t0"."ordered_at")) AS "order_date"
    FROM "orders" AS "t0"
    WHERE
      "t0"."status" = 'completed'
      AND "t0"."customer_id" IS NOT NULL
      AND "t0"."ordered_at" < TIMESTAMP_FROM_PARTS(2026, 10, 31, 15, 0, 0, 0)
  ) AS "t1"
  GROUP BY
    1
) AS "t2"
WHERE
  DATEDIFF(DAY, "t2"."last_order", DATE_FROM_PARTS(2026, 10, 31)) >= 180
  AND DATEDIFF(DAY, "t2"."last_order", DATE_FROM_PARTS(2026, 10, 31)) <= 365
ORDER BY
  "t2"."revenue" DESC NULLS LAST,
  "t2"."customer_id" ASC
