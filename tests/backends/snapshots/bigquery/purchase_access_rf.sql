WITH `t4` AS (
  SELECT
    `t2`.`customer_id`,
    MAX(`t2`.`order_date`) AS `last_order`
  FROM (
    SELECT
      `t0`.`order_id`,
      `t0`.`customer_id`,
      `t0`.`ordered_at`,
      `t0`.`status`,
      `t0`.`channel`,
      `t0`.`subtotal`,
      `t0`.`discount`,
      `t0`.`shipping_fee`,
      `t0`.`points_used`,
      `t0`.`total`,
      `t0`.`points_earned`,
      `t0`.`coupon_code`,
      `t0`.`subscription_id`,
      `t0`.`payment_method`,
      `t0`.`shipping_prefecture`,
      `t0`.`is_gift`,
      DATE(TIMESTAMP_ADD(`t0`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
    FROM `orders` AS `t0`
    WHERE
      `t0`.`status` = 'completed'
      AND `t0`.`customer_id` IS NOT NULL
      AND `t0`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
  ) AS `t2`
  GROUP BY
    1
), `t8` AS (
  SELECT
    `t3`.`customer_id`,
    MAX(`t3`.`day`) AS `last_visit`,
    COUNT(
      DISTINCT IF(DATE_DIFF(DATE(2026, 10, 31), `t3`.`day`, DAY) < 90, `t3`.`day`, NULL)
    ) AS `visit_days`
  FROM (
    SELECT
      `t1`.`event_id`,
      `t1`.`occurred_at`,
      `t1`.`event_type`,
      `t1`.`anonymous_id`,
      `t1`.`customer_id`,
      `t1`.`session_id`,
      `t1`.`product_id`,
      `t1`.`category`,
      `t1`.`search_query`,
      `t1`.`page_url`,
      `t1`.`referrer`,
      `t1`.`quantity`,
      `t1`.`source`,
      DATE(TIMESTAMP_ADD(`t1`.`occurred_at`, INTERVAL '9' HOUR)) AS `day`
    FROM `web_events` AS `t1`
    WHERE
      `t1`.`customer_id` IS NOT NULL
      AND DATE(TIMESTAMP_ADD(`t1`.`occurred_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
  ) AS `t3`
  GROUP BY
    1
)
SELECT
  *
FROM (
  SELECT
    `t21`.`purchase_order`,
    `t21`.`purchase_band`,
    `t21`.`access_order`,
    `t21`.`access_band`,
    COUNT(`t21`.`customer_id`) AS `customers`
  FROM (
    SELECT
      `t20`.`customer_id`,
      `t20`.`last_visit`,
      `t20`.`visit_days`,
      `t20`.`access_recency_days`,
      `t20`.`last_order`,
      `t20`.`purchase_recency_days`,
      IF(
        `t20`.`last_order` IS NULL,
        5,
        CASE
          WHEN `t20`.`purchase_recency_days` <= 7
          THEN 0
          WHEN `t20`.`purchase_recency_days` <= 30
          THEN 1
          WHEN `t20`.`purchase_recency_days` <= 90
          THEN 2
          WHEN `t20`.`purchase_recency_days` <= 180
          THEN 3
          ELSE 4
        END
      ) AS `purchase_order`,
      IF(
        `t20`.`last_order` IS NULL,
        '(なし)',
        CASE
          WHEN CASE
            WHEN `t20`.`purchase_recency_days` <= 7
            THEN 0
            WHEN `t20`.`purchase_recency_days` <= 30
            THEN 1
            WHEN `t20`.`purchase_recency_days` <= 90
            THEN 2
            WHEN `t20`.`purchase_recency_days` <= 180
            THEN 3
            ELSE 4
          END = 0
          THEN '0-7'
          WHEN CASE
            WHEN `t20`.`purchase_recency_days` <= 7
            THEN 0
            WHEN `t20`.`purchase_recency_days` <= 30
            THEN 1
            WHEN `t20`.`purchase_recency_days` <= 90
            THEN 2
            WHEN `t20`.`purchase_recency_days` <= 180
            THEN 3
            ELSE 4
          END = 1
          THEN '8-30'
          WHEN CASE
            WHEN `t20`.`purchase_recency_days` <= 7
            THEN 0
            WHEN `t20`.`purchase_recency_days` <= 30
            THEN 1
            WHEN `t20`.`purchase_recency_days` <= 90
            THEN 2
            WHEN `t20`.`purchase_recency_days` <= 180
            THEN 3
            ELSE 4
          END = 2
          THEN '31-90'
          WHEN CASE
            WHEN `t20`.`purchase_recency_days` <= 7
            THEN 0
            WHEN `t20`.`purchase_recency_days` <= 30
            THEN 1
            WHEN `t20`.`purchase_recency_days` <= 90
            THEN 2
            WHEN `t20`.`purchase_recency_days` <= 180
            THEN 3
            ELSE 4
          END = 3
          THEN '91-180'
          WHEN CASE
            WHEN `t20`.`purchase_recency_days` <= 7
            THEN 0
            WHEN `t20`.`purchase_recency_days` <= 30
            THEN 1
            WHEN `t20`.`purchase_recency_days` <= 90
            THEN 2
            WHEN `t20`.`purchase_recency_days` <= 180
            THEN 3
            ELSE 4
          END = 4
          THEN '181+'
          ELSE NULL
        END
      ) AS `purchase_band`,
      IF(
        `t20`.`last_visit` IS NULL,
        5,
        CASE
          WHEN `t20`.`access_recency_days` <= 7
          THEN 0
          WHEN `t20`.`access_recency_days` <= 30
          THEN 1
          WHEN `t20`.`access_recency_days` <= 90
          THEN 2
          WHEN `t20`.`access_recency_days` <= 180
          THEN 3
          ELSE 4
        END
      ) AS `access_order`,
      IF(
        `t20`.`last_visit` IS NULL,
        '(なし)',
        CASE
          WHEN CASE
            WHEN `t20`.`access_recency_days` <= 7
            THEN 0
            WHEN `t20`.`access_recency_days` <= 30
            THEN 1
            WHEN `t20`.`access_recency_days` <= 90
            THEN 2
            WHEN `t20`.`access_recency_days` <= 180
            THEN 3
            ELSE 4
          END = 0
          THEN '0-7'
          WHEN CASE
            WHEN `t20`.`access_recency_days` <= 7
            THEN 0
            WHEN `t20`.`access_recency_days` <= 30
            THEN 1
            WHEN `t20`.`access_recency_days` <= 90
            THEN 2
            WHEN `t20`.`access_recency_days` <= 180
            THEN 3
            ELSE 4
          END = 1
          THEN '8-30'
          WHEN CASE
            WHEN `t20`.`access_recency_days` <= 7
            THEN 0
            WHEN `t20`.`access_recency_days` <= 30
            THEN 1
            WHEN `t20`.`access_recency_days` <= 90
            THEN 2
            WHEN `t20`.`access_recency_days` <= 180
            THEN 3
            ELSE 4
          END = 2
          THEN '31-90'
          WHEN CASE
            WHEN `t20`.`access_recency_days` <= 7
            THEN 0
            WHEN `t20`.`access_recency_days` <= 30
            THEN 1
            WHEN `t20`.`access_recency_days` <= 90
            THEN 2
            WHEN `t20`.`access_recency_days` <= 180
            THEN 3
            ELSE 4
          END = 3
          THEN '91-180'
          WHEN CASE
            WHEN `t20`.`access_recency_days` <= 7
            THEN 0
            WHEN `t20`.`access_recency_days` <= 30
            THEN 1
            WHEN `t20`.`access_recency_days` <= 90
            THEN 2
            WHEN `t20`.`access_recency_days` <= 180
            THEN 3
            ELSE 4
          END = 4
          THEN '181+'
          ELSE NULL
        END
      ) AS `access_band`
    FROM (
      SELECT
        `t19`.*
        EXCEPT (`customer_id_right`)
      FROM (
        SELECT
          `t18`.`customer_id`,
          `t18`.`last_visit`,
          `t18`.`visit_days`,
          `t18`.`access_recency_days`,
          `t9`.`customer_id` AS `customer_id_right`,
          `t9`.`last_order`,
          `t9`.`purchase_recency_days`
        FROM (
          SELECT
            `t16`.*
            EXCEPT (`customer_id_right`)
          FROM (
            SELECT
              `t14`.`customer_id`,
              `t15`.`customer_id` AS `customer_id_right`,
              `t15`.`last_visit`,
              `t15`.`visit_days`,
              `t15`.`access_recency_days`
            FROM (
              SELECT
                *
              FROM (
                SELECT
                  `t10`.`customer_id`
                FROM `t8` AS `t10`
              ) AS `t11`
              UNION DISTINCT
              SELECT
                *
              FROM (
                SELECT
                  `t5`.`customer_id`
                FROM `t4` AS `t5`
              ) AS `t6`
            ) AS `t14`
            LEFT OUTER JOIN (
              SELECT
                `t10`.`customer_id`,
                `t10`.`last_visit`,
                `t10`.`visit_days`,
                DATE_DIFF(DATE(2026, 10, 31), `t10`.`last_visit`, DAY) AS `access_recency_days`
              FROM `t8` AS `t10`
            ) AS `t15`
              ON `t14`.`customer_id` = `t15`.`customer_id`
          ) AS `t16`
        ) AS `t18`
        LEFT OUTER JOIN (
          SELECT
            `t5`.`customer_id`,
            `t5`.`last_order`,
            DATE_DIFF(DATE(2026, 10, 31), `t5`.`last_order`, DAY) AS `purchase_recency_days`
          FROM `t4` AS `t5`
        ) AS `t9`
          ON `t18`.`customer_id` = `t9`.`customer_id`
      ) AS `t19`
    ) AS `t20`
  ) AS `t21`
  GROUP BY
    1,
    2,
    3,
    4
) AS `t22`
ORDER BY
  `t22`.`purchase_order` ASC NULLS LAST,
  `t22`.`access_order` ASC NULLS LAST
