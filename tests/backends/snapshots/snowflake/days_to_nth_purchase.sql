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
    "t9"."order_no",
    COUNT("t9"."customer_id") AS "customers",
    CAST(FLOOR((
      AVG("t9"."days") * 100
    ) + 0.5) AS BIGINT) / 100 AS "mean_days_from_first",
    MEDIAN("t9"."days") AS "median_days_from_first"
  FROM (
    SELECT
      "t8"."order_id",
      "t8"."customer_id",
      "t8"."ordered_at",
      "t8"."status",
      "t8"."channel",
      "t8"."subtotal",
      "t8"."discount",
      "t8"."shipping_fee",
      "t8"."points_used",
      "t8"."total",
      "t8"."points_earned",
      "t8"."coupon_code",
      "t8"."subscription_id",
      "t8"."payment_method",
      "t8"."shipping_prefecture",
      "t8"."is_gift",
      "t8"."order_date",
      "t8"."order_no",
      "t8"."buyer",
      "t8"."first_date",
      DATEDIFF(DAY, "t8"."first_date", "t8"."order_date") AS "days"
    FROM (
      SELECT
        "t6"."order_id",
        "t6"."customer_id",
        "t6"."ordered_at",
        "t6"."status",
        "t6"."channel",
        "t6"."subtotal",
        "t6"."discount",
        "t6"."shipping_fee",
        "t6"."points_used",
        "t6"."total",
        "t6"."points_earned",
        "t6"."coupon_code",
        "t6"."subscription_id",
        "t6"."payment_method",
        "t6"."shipping_prefecture",
        "t6"."is_gift",
        "t6"."order_date",
        "t6"."order_no",
        "t7"."buyer",
        "t7"."first_date"
      FROM (
        SELECT
          *
        FROM "t2" AS "t3"
        WHERE
          "t3"."order_no" >= 2 AND "t3"."order_no" <= 10
      ) AS "t6"
      INNER JOIN (
        SELECT
          "t3"."customer_id" AS "buyer",
          "t3"."order_date" AS "first_date"
        FROM "t2" AS "t3"
        WHERE
          "t3"."order_no" = 1
      ) AS "t7"
        ON "t6"."customer_id" = "t7"."buyer"
    ) AS "t8"
  ) AS "t9"
  GROUP BY
    1
) AS "t10"
ORDER BY
  "t10"."order_no" ASC
