WITH "t15" AS (
  SELECT
    "t14"."year",
    "t14"."customer_id",
    COUNT("t14"."order_id") AS "orders",
    SUM("t14"."total") AS "revenue"
  FROM (
    SELECT
      "t13"."order_id",
      "t13"."customer_id",
      "t13"."ordered_at",
      "t13"."status",
      "t13"."channel",
      "t13"."subtotal",
      "t13"."discount",
      "t13"."shipping_fee",
      "t13"."points_used",
      "t13"."total",
      "t13"."points_earned",
      "t13"."coupon_code",
      "t13"."subscription_id",
      "t13"."payment_method",
      "t13"."shipping_prefecture",
      "t13"."is_gift",
      "t13"."order_date",
      "t13"."has_gift_item",
      "t13"."is_gift" OR (
        "t13"."has_gift_item" IS NOT NULL
      ) AS "is_gift_purchase",
      DATE_PART(year, "t13"."order_date") AS "year"
    FROM (
      SELECT
        "t12".*
        EXCLUDE ("order_id_right")
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
          "t11"."order_id" AS "order_id_right",
          "t11"."has_gift_item"
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
        ) AS "t7"
        LEFT OUTER JOIN (
          SELECT
            "t9"."order_id",
            1 AS "has_gift_item"
          FROM (
            SELECT DISTINCT
              *
            FROM (
              SELECT
                "t3"."order_id"
              FROM "order_items" AS "t3"
              INNER JOIN (
                SELECT
                  "t2"."product_id"
                FROM "products" AS "t2"
                WHERE
                  "t2"."is_gift"
              ) AS "t5"
                ON "t3"."product_id" = "t5"."product_id"
            ) AS "t8"
          ) AS "t9"
        ) AS "t11"
          ON "t7"."order_id" = "t11"."order_id"
      ) AS "t12"
    ) AS "t13"
    WHERE
      (
        "t13"."is_gift" OR (
          "t13"."has_gift_item" IS NOT NULL
        )
      )
      AND DATE_PART(month, "t13"."order_date") IN (11, 12)
  ) AS "t14"
  GROUP BY
    1,
    2
)
SELECT
  "t27"."year",
  "t27"."buyers",
  "t27"."returning_buyers",
  "t27"."orders",
  "t27"."revenue",
  COALESCE("t27"."last_year_buyers", 0) AS "last_year_buyers",
  CAST(FLOOR(
    (
      (
        CAST("t27"."returning_buyers" AS DOUBLE) / NULLIF("t27"."last_year_buyers", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "retention_from_last_year",
  CAST(FLOOR(
    (
      (
        CAST("t27"."revenue" AS DOUBLE) / NULLIF("t27"."buyers", 0)
      ) * 1
    ) + 0.5
  ) AS BIGINT) / 1 AS "revenue_per_buyer"
FROM (
  SELECT
    "t26".*
    EXCLUDE ("year_right")
  FROM (
    SELECT
      "t25"."year",
      "t25"."buyers",
      "t25"."returning_buyers",
      "t25"."orders",
      "t25"."revenue",
      "t22"."year" AS "year_right",
      "t22"."last_year_buyers"
    FROM (
      SELECT
        "t23"."year",
        COUNT("t23"."customer_id") AS "buyers",
        COUNT("t23"."prev_customer") AS "returning_buyers",
        SUM("t23"."orders") AS "orders",
        SUM("t23"."revenue") AS "revenue"
      FROM (
        SELECT
          "t17"."year",
          "t17"."customer_id",
          "t17"."orders",
          "t17"."revenue",
          "t20"."prev_year",
          "t20"."prev_customer"
        FROM "t15" AS "t17"
        LEFT OUTER JOIN (
          SELECT
            "t16"."year" AS "prev_year",
            "t16"."customer_id" AS "prev_customer"
          FROM "t15" AS "t16"
        ) AS "t20"
          ON "t17"."customer_id" = "t20"."prev_customer"
          AND "t17"."year" = (
            "t20"."prev_year" + 1
          )
      ) AS "t23"
      GROUP BY
        1
    ) AS "t25"
    LEFT OUTER JOIN (
      SELECT
        "t19"."year" + 1 AS "year",
        "t19"."last_year_buyers"
      FROM (
        SELECT
          "t16"."year",
          COUNT("t16"."customer_id") AS "last_year_buyers"
        FROM "t15" AS "t16"
        GROUP BY
          1
      ) AS "t19"
    ) AS "t22"
      ON "t25"."year" = "t22"."year"
  ) AS "t26"
) AS "t27"
ORDER BY
  "t27"."year" ASC
