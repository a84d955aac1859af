SELECT
  "t4"."order_no",
  "t4"."customers",
  "t4"."next_customers",
  "t4"."avg_days_to_next",
  "t4"."median_days_to_next",
  CAST(FLOOR(
    (
      (
        CAST("t4"."next_customers" AS DOUBLE) / NULLIF("t4"."customers", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "conversion_rate"
FROM (
  SELECT
    "t3"."order_no",
    COUNT("t3"."customer_id") AS "customers",
    COUNT("t3"."next_date") AS "next_customers",
    CAST(FLOOR((
      AVG("t3"."days_to_next") * 100
    ) + 0.5) AS BIGINT) / 100 AS "avg_days_to_next",
    MEDIAN("t3"."days_to_next") AS "median_days_to_next"
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
      "t2"."next_date",
      DATEDIFF(DAY, "t2"."order_date", "t2"."next_date") AS "days_to_next"
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
        ) + 1 AS "order_no",
        LEAD("t1"."order_date") OVER (
          PARTITION BY "t1"."customer_id"
          ORDER BY "t1"."ordered_at" ASC, "t1"."order_id" ASC
        ) AS "next_date"
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
      "t2"."order_no" <= 10
  ) AS "t3"
  GROUP BY
    1
) AS "t4"
ORDER BY
  "t4"."order_no" ASC
