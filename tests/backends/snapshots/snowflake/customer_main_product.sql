SELECT
  "t10"."customer_id",
  "t10"."product_id" AS "main_product",
  "t10"."amount" AS "main_amount",
  "t10"."quantity" AS "main_quantity",
  "t10"."orders" AS "main_orders",
  "t10"."total" AS "total_amount",
  CAST(FLOOR(
    (
      (
        CAST("t10"."amount" AS DOUBLE) / NULLIF("t10"."total", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "main_share",
  "t10"."kinds" AS "product_count"
FROM (
  SELECT
    "t9"."customer_id",
    "t9"."product_id",
    "t9"."amount",
    "t9"."quantity",
    "t9"."orders",
    ROW_NUMBER() OVER (
      PARTITION BY "t9"."customer_id"
      ORDER BY "t9"."amount" DESC NULLS LAST, "t9"."product_id" ASC
    ) - 1 AS "rn",
    SUM("t9"."amount") OVER (
      PARTITION BY "t9"."customer_id"
      ORDER BY NULL ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS "total",
    COUNT("t9"."product_id") OVER (
      PARTITION BY "t9"."customer_id"
      ORDER BY NULL ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS "kinds"
  FROM (
    SELECT
      "t8"."customer_id",
      "t8"."product_id",
      SUM("t8"."amount") AS "amount",
      SUM("t8"."quantity") AS "quantity",
      COUNT(DISTINCT "t8"."order_id") AS "orders"
    FROM (
      SELECT
        "t3"."order_id",
        "t3"."line_no",
        "t3"."product_id",
        "t3"."quantity",
        "t3"."amount",
        COALESCE(COALESCE("t3"."category", "t5"."master_category"), '(未分類)') AS "category",
        "t7"."customer_id",
        "t7"."ordered_at",
        "t7"."order_date"
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
      ) AS "t7"
        ON "t3"."order_id" = "t7"."order_id"
    ) AS "t8"
    GROUP BY
      1,
      2
  ) AS "t9"
) AS "t10"
WHERE
  "t10"."rn" = 0
ORDER BY
  "t10"."customer_id" ASC
