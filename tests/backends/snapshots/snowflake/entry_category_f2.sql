WITH "t10" AS (
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
    (
      ROW_NUMBER() OVER (
        PARTITION BY "t7"."customer_id"
        ORDER BY "t7"."ordered_at" ASC, "t7"."order_id" ASC
      ) - 1
    ) + 1 AS "order_no"
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
      TO_DATE(DATEADD(HOUR, '9', "t2"."ordered_at")) AS "order_date"
    FROM "orders" AS "t2"
    WHERE
      "t2"."status" = 'completed'
      AND "t2"."customer_id" IS NOT NULL
      AND "t2"."ordered_at" < TIMESTAMP_FROM_PARTS(2026, 10, 31, 15, 0, 0, 0)
  ) AS "t7"
)
SELECT
  "t23"."category",
  "t23"."new_customers",
  "t23"."f2_customers",
  "t23"."repeat_customers",
  CAST(FLOOR(
    (
      (
        CAST("t23"."f2_customers" AS DOUBLE) / NULLIF("t23"."new_customers", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "f2_rate",
  CAST(FLOOR(
    (
      (
        CAST("t23"."repeat_customers" AS DOUBLE) / NULLIF("t23"."new_customers", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "repeat_rate"
FROM (
  SELECT
    "t22"."category",
    COUNT(DISTINCT "t22"."customer_id") AS "new_customers",
    SUM("t22"."f2") AS "f2_customers",
    SUM("t22"."repeat") AS "repeat_customers"
  FROM (
    SELECT
      "t21"."customer_id",
      "t21"."first_order",
      "t21"."first_date",
      "t21"."second_order",
      "t21"."second_date",
      "t21"."order_id",
      "t21"."category",
      IFF(
        (
          "t21"."second_date" IS NOT NULL
        )
        AND (
          DATEDIFF(DAY, "t21"."first_date", "t21"."second_date") <= 90
        ),
        1,
        0
      ) AS "f2",
      IFF("t21"."second_date" IS NOT NULL, 1, 0) AS "repeat"
    FROM (
      SELECT
        "t20"."customer_id",
        "t20"."first_order",
        "t20"."first_date",
        "t20"."second_order",
        "t20"."second_date",
        "t13"."order_id",
        "t13"."category"
      FROM (
        SELECT
          "t18".*
          EXCLUDE ("customer_id_right")
        FROM (
          SELECT
            "t16"."customer_id",
            "t16"."first_order",
            "t16"."first_date",
            "t17"."customer_id" AS "customer_id_right",
            "t17"."second_order",
            "t17"."second_date"
          FROM (
            SELECT
              "t12"."customer_id",
              "t12"."order_id" AS "first_order",
              "t12"."order_date" AS "first_date"
            FROM "t10" AS "t12"
            WHERE
              "t12"."order_no" = 1
          ) AS "t16"
          LEFT OUTER JOIN (
            SELECT
              "t12"."customer_id",
              "t12"."order_id" AS "second_order",
              "t12"."order_date" AS "second_date"
            FROM "t10" AS "t12"
            WHERE
              "t12"."order_no" = 2
          ) AS "t17"
            ON "t16"."customer_id" = "t17"."customer_id"
        ) AS "t18"
      ) AS "t20"
      INNER JOIN (
        SELECT DISTINCT
          *
        FROM (
          SELECT
            "t3"."order_id",
            COALESCE(COALESCE("t3"."category", "t5"."master_category"), '(未分類)') AS "category"
          FROM "order_items" AS "t3"
          LEFT OUTER JOIN (
            SELECT
              "t1"."product_id",
              "t1"."category" AS "master_category"
            FROM "products" AS "t1"
          ) AS "t5"
            ON "t3"."product_id" = "t5"."product_id"
          INNER JOIN (
            SELECT
              "t2"."order_id",
              "t2"."customer_id",
              "t2"."ordered_at",
              TO_DATE(DATEADD(HOUR, '9', "t2"."ordered_at")) AS "order_date"
            FROM "orders" AS "t2"
            WHERE
              "t2"."status" = 'completed'
              AND "t2"."customer_id" IS NOT NULL
              AND "t2"."ordered_at" < TIMESTAMP_FROM_PARTS(2026, 10, 31, 15, 0, 0, 0)
          ) AS "t8"
            ON "t3"."order_id" = "t8"."order_id"
        ) AS "t9"
      ) AS "t13"
        ON "t20"."first_order" = "t13"."order_id"
    ) AS "t21"
  ) AS "t22"
  GROUP BY
    1
) AS "t23"
ORDER BY
  "t23"."new_customers" DESC NULLS LAST,
  "t23"."category" ASC
