WITH "t6" AS (
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
), "t12" AS (
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
    "t11"."first_date",
    "t11"."cohort_month",
    "t11"."cohort_idx"
  FROM "t6" AS "t8"
  INNER JOIN (
    SELECT
      "t9"."customer_id",
      "t9"."first_date",
      DATE_TRUNC('MONTH', "t9"."first_date") AS "cohort_month",
      (
        (
          DATE_PART(year, "t9"."first_date") * 12
        ) + DATE_PART(month, "t9"."first_date")
      ) - 1 AS "cohort_idx"
    FROM (
      SELECT
        "t7"."customer_id",
        MIN("t7"."order_date") AS "first_date"
      FROM "t6" AS "t7"
      GROUP BY
        1
    ) AS "t9"
  ) AS "t11"
    ON "t8"."customer_id" = "t11"."customer_id"
), "t15" AS (
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
    "t13"."first_date",
    "t13"."cohort_month",
    "t13"."cohort_idx",
    (
      (
        (
          DATE_PART(year, "t13"."order_date") * 12
        ) + DATE_PART(month, "t13"."order_date")
      ) - 1
    ) - "t13"."cohort_idx" AS "months_since"
  FROM "t12" AS "t13"
  WHERE
    DATEDIFF(DAY, "t13"."first_date", "t13"."order_date") <= 365
    AND "t13"."order_date" = "t13"."first_date"
)
SELECT
  "t35"."product_id",
  "t35"."customers",
  "t35"."revenue",
  CAST(FLOOR(
    (
      (
        CAST("t35"."revenue" AS DOUBLE) / NULLIF("t35"."customers", 0)
      ) * 1
    ) + 0.5
  ) AS BIGINT) / 1 AS "ltv",
  CAST(FLOOR(
    (
      (
        CAST("t35"."orders" AS DOUBLE) / NULLIF("t35"."customers", 0)
      ) * 100
    ) + 0.5
  ) AS BIGINT) / 100 AS "orders_per_customer",
  "t35"."matured_customers",
  CAST(FLOOR(
    (
      (
        CAST("t35"."matured_revenue" AS DOUBLE) / NULLIF("t35"."matured_customers", 0)
      ) * 1
    ) + 0.5
  ) AS BIGINT) / 1 AS "ltv_matured"
FROM (
  SELECT
    "t34"."product_id",
    COUNT("t34"."customer_id") AS "customers",
    SUM("t34"."revenue") AS "revenue",
    SUM("t34"."orders") AS "orders",
    SUM("t34"."matured") AS "matured_customers",
    SUM(IFF("t34"."matured" = 1, "t34"."revenue", 0)) AS "matured_revenue"
  FROM (
    SELECT
      "t33"."customer_id",
      "t33"."first_date",
      "t33"."revenue",
      "t33"."orders",
      "t33"."matured",
      "t33"."first_item" AS "product_id"
    FROM (
      SELECT
        "t23"."customer_id",
        "t23"."first_date",
        "t23"."revenue",
        "t23"."orders",
        "t23"."matured",
        "t32"."first_item"
      FROM (
        SELECT
          "t18"."customer_id",
          "t18"."first_date",
          "t18"."revenue",
          "t18"."orders",
          IFF(DATEDIFF(DAY, "t18"."first_date", DATE_FROM_PARTS(2026, 10, 31)) >= 365, 1, 0) AS "matured"
        FROM (
          SELECT
            "t14"."customer_id",
            "t14"."first_date",
            SUM("t14"."total") AS "revenue",
            COUNT("t14"."order_id") AS "orders"
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
              "t13"."first_date",
              "t13"."cohort_month",
              "t13"."cohort_idx",
              (
                (
                  (
                    DATE_PART(year, "t13"."order_date") * 12
                  ) + DATE_PART(month, "t13"."order_date")
                ) - 1
              ) - "t13"."cohort_idx" AS "months_since"
            FROM "t12" AS "t13"
            WHERE
              DATEDIFF(DAY, "t13"."first_date", "t13"."order_date") <= 365
          ) AS "t14"
          GROUP BY
            1,
            2
        ) AS "t18"
      ) AS "t23"
      INNER JOIN (
        SELECT
          "t26"."customer_id",
          "t30"."main" AS "first_item"
        FROM (
          SELECT
            "t21"."customer_id",
            "t21"."order_id"
          FROM (
            SELECT
              "t16"."order_id",
              "t16"."customer_id",
              "t16"."ordered_at",
              "t16"."status",
              "t16"."channel",
              "t16"."subtotal",
              "t16"."discount",
              "t16"."shipping_fee",
              "t16"."points_used",
              "t16"."total",
              "t16"."points_earned",
              "t16"."coupon_code",
              "t16"."subscription_id",
              "t16"."payment_method",
              "t16"."shipping_prefecture",
              "t16"."is_gift",
              "t16"."order_date",
              "t16"."first_date",
              "t16"."cohort_month",
              "t16"."cohort_idx",
              "t16"."months_since",
              ROW_NUMBER() OVER (
                PARTITION BY "t16"."customer_id"
                ORDER BY "t16"."ordered_at" ASC, "t16"."order_id" ASC
              ) - 1 AS "rn"
            FROM "t15" AS "t16"
          ) AS "t21"
          WHERE
            "t21"."rn" = 0
        ) AS "t26"
        INNER JOIN (
          SELECT
            "t28"."order_id",
            "t28"."product_id" AS "main"
          FROM (
            SELECT
              "t27"."order_id",
              "t27"."product_id",
              "t27"."amount",
              ROW_NUMBER() OVER (
                PARTITION BY "t27"."order_id"
                ORDER BY "t27"."amount" DESC NULLS LAST, "t27"."product_id" ASC
              ) - 1 AS "rn"
            FROM (
              SELECT
                "t25"."order_id",
                "t25"."product_id",
                SUM("t25"."amount") AS "amount"
              FROM (
                SELECT
                  "t3"."order_id",
                  "t3"."line_no",
                  "t3"."product_id",
                  "t3"."quantity",
                  "t3"."amount",
                  COALESCE(COALESCE("t3"."category", "t5"."master_category"), '(未分類)') AS "category",
                  "t20"."customer_id",
                  "t20"."ordered_at",
                  "t20"."order_date"
                FROM "order_items" AS "t3"
                LEFT OUTER JOIN (
                  SELECT
                    "t2"."product_id",
                    "t2"."category" AS "master_category"
                  FROM "products" AS "t2"
                ) AS "t5"
                  ON "t3"."product_id" = "t5"."product_id"
                INNER JOIN (
                  SELECT
                    "t17"."order_id",
                    "t17"."customer_id",
                    "t17"."ordered_at",
                    "t17"."order_date"
                  FROM (
                    SELECT
                      "t16".*
                      EXCLUDE ("first_date")
                    FROM "t15" AS "t16"
                  ) AS "t17"
                ) AS "t20"
                  ON "t3"."order_id" = "t20"."order_id"
              ) AS "t25"
              GROUP BY
                1,
                2
            ) AS "t27"
          ) AS "t28"
          WHERE
            "t28"."rn" = 0
        ) AS "t30"
          ON "t26"."order_id" = "t30"."order_id"
      ) AS "t32"
        ON "t23"."customer_id" = "t32"."customer_id"
    ) AS "t33"
  ) AS "t34"
  GROUP BY
    1
) AS "t35"
ORDER BY
  "t35"."customers" DESC NULLS LAST,
  "t35"."product_id" ASC
