WITH "t2" AS (
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
)
SELECT
  *
FROM (
  SELECT
    "t9"."coupon",
    "t9"."customers",
    CAST(FLOOR(
      (
        (
          CAST("t9"."customers" AS DOUBLE) / NULLIF(
            SUM("t9"."customers") OVER (ORDER BY NULL ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
            0
          )
        ) * 10000
      ) + 0.5
    ) AS BIGINT) / 10000 AS "customer_share",
    "t9"."revenue",
    CAST(FLOOR(
      (
        (
          CAST("t9"."revenue" AS DOUBLE) / NULLIF("t9"."customers", 0)
        ) * 1
      ) + 0.5
    ) AS BIGINT) / 1 AS "average_order_value",
    "t9"."next_customers",
    CAST(FLOOR(
      (
        (
          CAST("t9"."next_customers" AS DOUBLE) / NULLIF("t9"."customers", 0)
        ) * 10000
      ) + 0.5
    ) AS BIGINT) / 10000 AS "next_rate"
  FROM (
    SELECT
      "t8"."coupon",
      COUNT("t8"."customer_id") AS "customers",
      SUM("t8"."total") AS "revenue",
      COUNT("t8"."buyer") AS "next_customers"
    FROM (
      SELECT
        "t7"."order_id",
        "t7"."customer_id",
        "t7"."ordered_at",
        "t7"."status",
        "t7"."channel",
        "t7"."subtotal",
        "t7"."discount",
        "t7"."shipping_fee",
        "t7"."points_used",
        "t7"."total",
        "t7"."points_earned",
        "t7"."coupon_code",
        "t7"."subscription_id",
        "t7"."payment_method",
        "t7"."shipping_prefecture",
        "t7"."is_gift",
        "t7"."order_date",
        "t7"."order_no",
        "t7"."coupon",
        "t5"."buyer"
      FROM (
        SELECT
          "t3"."order_id",
          "t3"."customer_id",
          "t3"."ordered_at",
          "t3"."status",
          "t3"."channel",
          "t3"."subtotal",
          "t3"."discount",
          "t3"."shipping_fee",
          "t3"."points_used",
          "t3"."total",
          "t3"."points_earned",
          "t3"."coupon_code",
          "t3"."subscription_id",
          "t3"."payment_method",
          "t3"."shipping_prefecture",
          "t3"."is_gift",
          "t3"."order_date",
          "t3"."order_no",
          IFF(
            (
              "t3"."coupon_code" IS NOT NULL
            ) AND (
              "t3"."coupon_code" <> ''
            ),
            'coupon',
            'no_coupon'
          ) AS "coupon"
        FROM "t2" AS "t3"
        WHERE
          "t3"."order_no" = 2
      ) AS "t7"
      LEFT OUTER JOIN (
        SELECT
          "t3"."customer_id" AS "buyer"
        FROM "t2" AS "t3"
        WHERE
          "t3"."order_no" = 3
      ) AS "t5"
        ON "t7"."customer_id" = "t5"."buyer"
    ) AS "t8"
    GROUP BY
      1
  ) AS "t9"
) AS "t10"
ORDER BY
  "t10"."customers" DESC NULLS LAST,
  "t10"."coupon" ASC
