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
  "t10"."shipping_prefecture",
  "t10"."new_customers",
  "t10"."f2_customers",
  "t10"."repeat_customers",
  CAST(FLOOR(
    (
      (
        CAST("t10"."f2_customers" AS DOUBLE) / NULLIF("t10"."new_customers", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "f2_rate",
  CAST(FLOOR(
    (
      (
        CAST("t10"."repeat_customers" AS DOUBLE) / NULLIF("t10"."new_customers", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "repeat_rate",
  "t10"."median_days_to_second"
FROM (
  SELECT
    "t9"."shipping_prefecture",
    COUNT("t9"."customer_id") AS "new_customers",
    SUM("t9"."f2") AS "f2_customers",
    SUM("t9"."repeat") AS "repeat_customers",
    MEDIAN("t9"."days_to_second") AS "median_days_to_second"
  FROM (
    SELECT
      "t8"."customer_id",
      "t8"."shipping_prefecture",
      "t8"."first_date",
      "t8"."buyer",
      "t8"."second_date",
      DATEDIFF(DAY, "t8"."first_date", "t8"."second_date") AS "days_to_second",
      IFF(
        (
          "t8"."second_date" IS NOT NULL
        )
        AND (
          DATEDIFF(DAY, "t8"."first_date", "t8"."second_date") <= 90
        ),
        1,
        0
      ) AS "f2",
      IFF("t8"."second_date" IS NOT NULL, 1, 0) AS "repeat"
    FROM (
      SELECT
        "t6"."customer_id",
        "t6"."shipping_prefecture",
        "t6"."first_date",
        "t7"."buyer",
        "t7"."second_date"
      FROM (
        SELECT
          "t3"."customer_id",
          COALESCE("t3"."shipping_prefecture", '(不明)') AS "shipping_prefecture",
          "t3"."order_date" AS "first_date"
        FROM "t2" AS "t3"
        WHERE
          "t3"."order_no" = 1
      ) AS "t6"
      LEFT OUTER JOIN (
        SELECT
          "t3"."customer_id" AS "buyer",
          "t3"."order_date" AS "second_date"
        FROM "t2" AS "t3"
        WHERE
          "t3"."order_no" = 2
      ) AS "t7"
        ON "t6"."customer_id" = "t7"."buyer"
    ) AS "t8"
  ) AS "t9"
  GROUP BY
    1
) AS "t10"
ORDER BY
  "t10"."new_customers" DESC NULLS LAST,
  "t10"."shipping_prefecture" ASC
