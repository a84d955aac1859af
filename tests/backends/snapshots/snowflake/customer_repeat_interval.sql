SELECT
  "t4"."customer_id",
  "t4"."intervals",
  "t4"."mean_interval",
  "t4"."median_interval",
  "t4"."min_interval",
  "t4"."max_interval",
  "t4"."last_order",
  DATEDIFF(DAY, "t4"."last_order", DATE_FROM_PARTS(2026, 10, 31)) AS "days_since_last",
  "t4"."intervals" + 1 AS "orders",
  CAST(FLOOR(
    (
      (
        CAST(DATEDIFF(DAY, "t4"."last_order", DATE_FROM_PARTS(2026, 10, 31)) AS DOUBLE) / NULLIF(NULLIF("t4"."median_interval", 0), 0)
      ) * 100
    ) + 0.5
  ) AS BIGINT) / 100 AS "overdue_ratio"
FROM (
  SELECT
    "t3"."customer_id",
    COUNT("t3"."days_to_next") AS "intervals",
    CAST(FLOOR((
      AVG("t3"."days_to_next") * 100
    ) + 0.5) AS BIGINT) / 100 AS "mean_interval",
    MEDIAN("t3"."days_to_next") AS "median_interval",
    MIN("t3"."days_to_next") AS "min_interval",
    MAX("t3"."days_to_next") AS "max_interval",
    MAX("t3"."next_date") AS "last_order"
  FROM (
    SELECT
      "t2"."customer_id",
      "t2"."order_date",
      "t2"."next_date",
      DATEDIFF(DAY, "t2"."order_date", "t2"."next_date") AS "days_to_next"
    FROM (
      SELECT
        "t1"."customer_id",
        "t1"."order_date",
        LEAD("t1"."order_date") OVER (PARTITION BY "t1"."customer_id" ORDER BY "t1"."order_date" ASC) AS "next_date"
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
    ) AS "t2"
    WHERE
      DATEDIFF(DAY, "t2"."order_date", "t2"."next_date") IS NOT NULL
  ) AS "t3"
  GROUP BY
    1
) AS "t4"
ORDER BY
  "t4"."customer_id" ASC
