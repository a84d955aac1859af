SELECT
  "t4"."month",
  "t4"."customers",
  "t4"."new_customers",
  "t4"."new_revenue",
  "t4"."repeat_orders",
  "t4"."repeat_revenue",
  "t4"."new_revenue" + "t4"."repeat_revenue" AS "revenue",
  CAST(FLOOR(
    (
      (
        CAST("t4"."repeat_revenue" AS DOUBLE) / NULLIF("t4"."new_revenue" + "t4"."repeat_revenue", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "repeat_revenue_share"
FROM (
  SELECT
    "t3"."month",
    COUNT(DISTINCT "t3"."customer_id") AS "customers",
    SUM(IFF("t3"."new", 1, 0)) AS "new_customers",
    SUM(IFF("t3"."new", "t3"."total", 0)) AS "new_revenue",
    SUM(IFF("t3"."new", 0, 1)) AS "repeat_orders",
    SUM(IFF("t3"."new", 0, "t3"."total")) AS "repeat_revenue"
  FROM (
    SELECT
      "t2"."order_id",
      "t2"."customer_id",
      "t2"."ordered_at",
      "t2"."status",
      "t2"."channel",
      "t2"."subtotal",
      "t2"."discount",
      "t2"."shipping_fee",
      "t2"."points_used",
      "t2"."total",
      "t2"."points_earned",
      "t2"."coupon_code",
      "t2"."subscription_id",
      "t2"."payment_method",
      "t2"."shipping_prefecture",
      "t2"."is_gift",
      "t2"."order_date",
      "t2"."order_no",
      DATE_TRUNC('MONTH', "t2"."order_date") AS "month",
      "t2"."order_no" = 1 AS "new"
    FROM (
      SELECT
        "t1"."order_id",
        "t1"."customer_id",
        "t1"."ordered_at",
        "t1"."status",
        "t1"."channel",
        "t1"."subtotal",
        "t1"."discount",
        "t1"."shipping_fee",
        "t1"."points_used",
        "t1"."total",
        "t1"."points_earned",
        "t1"."coupon_code",
        "t1"."subscription_id",
        "t1"."payment_method",
        "t1"."shipping_prefecture",
        "t1"."is_gift",
        "t1"."order_date",
        (
          ROW_NUMBER() OVER (
            PARTITION BY "t1"."customer_id"
            ORDER BY "t1"."ordered_at" ASC, "t1"."order_id" ASC
          ) - 1
        ) + 1 AS "order_no"
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
  ) AS "t3"
  GROUP BY
    1
) AS "t4"
ORDER BY
  "t4"."month" ASC
