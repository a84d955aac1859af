WITH "t3" AS (
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
    (
      ROW_NUMBER() OVER (
        PARTITION BY "t2"."customer_id"
        ORDER BY "t2"."ordered_at" ASC, "t2"."order_id" ASC
      ) - 1
    ) + 1 AS "order_no"
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
      TO_DATE(DATEADD(HOUR, '9', "t1"."ordered_at")) AS "order_date"
    FROM "orders" AS "t1"
    WHERE
      "t1"."status" = 'completed'
      AND "t1"."customer_id" IS NOT NULL
      AND "t1"."ordered_at" < TIMESTAMP_FROM_PARTS(2026, 10, 31, 15, 0, 0, 0)
  ) AS "t2"
)
SELECT
  "t13"."age_band",
  "t13"."new_customers",
  "t13"."f2_customers",
  "t13"."repeat_customers",
  CAST(FLOOR(
    (
      (
        CAST("t13"."f2_customers" AS DOUBLE) / NULLIF("t13"."new_customers", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "f2_rate",
  CAST(FLOOR(
    (
      (
        CAST("t13"."repeat_customers" AS DOUBLE) / NULLIF("t13"."new_customers", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "repeat_rate",
  "t13"."median_days_to_second"
FROM (
  SELECT
    "t12"."age_band",
    COUNT("t12"."customer_id") AS "new_customers",
    SUM("t12"."f2") AS "f2_customers",
    SUM("t12"."repeat") AS "repeat_customers",
    MEDIAN("t12"."days_to_second") AS "median_days_to_second"
  FROM (
    SELECT
      "t11"."customer_id",
      "t11"."age_band",
      "t11"."first_date",
      "t11"."buyer",
      "t11"."second_date",
      DATEDIFF(DAY, "t11"."first_date", "t11"."second_date") AS "days_to_second",
      IFF(
        (
          "t11"."second_date" IS NOT NULL
        )
        AND (
          DATEDIFF(DAY, "t11"."first_date", "t11"."second_date") <= 90
        ),
        1,
        0
      ) AS "f2",
      IFF("t11"."second_date" IS NOT NULL, 1, 0) AS "repeat"
    FROM (
      SELECT
        "t9"."customer_id",
        "t6"."age_band",
        "t9"."order_date" AS "first_date",
        "t10"."buyer",
        "t10"."second_date"
      FROM (
        SELECT
          *
        FROM "t3" AS "t4"
        WHERE
          "t4"."order_no" = 1
      ) AS "t9"
      INNER JOIN (
        SELECT
          "t0"."customer_id",
          IFF(
            "t0"."birth_date" IS NOT NULL,
            CONCAT(
              LPAD(
                CAST(CAST(FLOOR(
                  CAST(FLOOR(DATEDIFF(DAY, "t0"."birth_date", DATE_FROM_PARTS(2026, 10, 31)) / 365.25) AS BIGINT) / 10
                ) AS BIGINT) * 10 AS VARCHAR),
                GREATEST(
                  LENGTH(
                    CAST(CAST(FLOOR(
                      CAST(FLOOR(DATEDIFF(DAY, "t0"."birth_date", DATE_FROM_PARTS(2026, 10, 31)) / 365.25) AS BIGINT) / 10
                    ) AS BIGINT) * 10 AS VARCHAR)
                  ),
                  2
                ),
                '0'
              ),
              's'
            ),
            '(不明)'
          ) AS "age_band"
        FROM "customers" AS "t0"
      ) AS "t6"
        ON "t9"."customer_id" = "t6"."customer_id"
      LEFT OUTER JOIN (
        SELECT
          "t4"."customer_id" AS "buyer",
          "t4"."order_date" AS "second_date"
        FROM "t3" AS "t4"
        WHERE
          "t4"."order_no" = 2
      ) AS "t10"
        ON "t9"."customer_id" = "t10"."buyer"
    ) AS "t11"
  ) AS "t12"
  GROUP BY
    1
) AS "t13"
ORDER BY
  "t13"."age_band" ASC
