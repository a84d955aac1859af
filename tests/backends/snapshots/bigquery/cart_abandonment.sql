SELECT
  *
FROM (
  SELECT
    `t17`.`month`,
    `t17`.`carts`,
    `t17`.`converted_carts`,
    `t17`.`abandoned_carts`,
    `t17`.`abandonment_rate`,
    COALESCE(`t8`.`anonymous_cart_adds`, 0) AS `anonymous_cart_adds`
  FROM (
    SELECT
      `t15`.`month`,
      `t15`.`carts`,
      `t15`.`converted_carts`,
      `t15`.`carts` - `t15`.`converted_carts` AS `abandoned_carts`,
      ieee_divide(
        CAST(FLOOR(
          (
            ieee_divide(CAST(`t15`.`carts` - `t15`.`converted_carts` AS FLOAT64), NULLIF(`t15`.`carts`, 0)) * 10000
          ) + 0.5
        ) AS INT64),
        10000
      ) AS `abandonment_rate`
    FROM (
      SELECT
        `t14`.`month`,
        COUNT(`t14`.`customer_id`) AS `carts`,
        SUM(`t14`.`converted`) AS `converted_carts`
      FROM (
        SELECT
          `t13`.`customer_id`,
          `t13`.`event_date`,
          `t13`.`customer_id_right`,
          `t13`.`event_date_right`,
          COALESCE(`t13`.`converted`, 0) AS `converted`,
          DATE_TRUNC(`t13`.`event_date`, MONTH) AS `month`
        FROM (
          SELECT
            `t6`.`customer_id`,
            `t6`.`event_date`,
            `t12`.`customer_id` AS `customer_id_right`,
            `t12`.`event_date` AS `event_date_right`,
            `t12`.`converted`
          FROM (
            SELECT DISTINCT
              `t0`.`customer_id`,
              DATE(TIMESTAMP_ADD(`t0`.`occurred_at`, INTERVAL '9' HOUR)) AS `event_date`
            FROM `web_events` AS `t0`
            WHERE
              `t0`.`event_type` = 'cart_add'
              AND DATE(TIMESTAMP_ADD(`t0`.`occurred_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
              AND `t0`.`customer_id` IS NOT NULL
          ) AS `t6`
          LEFT OUTER JOIN (
            SELECT
              `t10`.`customer_id`,
              `t10`.`event_date`,
              1 AS `converted`
            FROM (
              SELECT DISTINCT
                *
              FROM (
                SELECT
                  `t6`.`customer_id`,
                  `t6`.`event_date`
                FROM (
                  SELECT DISTINCT
                    `t0`.`customer_id`,
                    DATE(TIMESTAMP_ADD(`t0`.`occurred_at`, INTERVAL '9' HOUR)) AS `event_date`
                  FROM `web_events` AS `t0`
                  WHERE
                    `t0`.`event_type` = 'cart_add'
                    AND DATE(TIMESTAMP_ADD(`t0`.`occurred_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
                    AND `t0`.`customer_id` IS NOT NULL
                ) AS `t6`
                INNER JOIN (
                  SELECT
                    `t1`.`customer_id` AS `buyer`,
                    DATE(TIMESTAMP_ADD(`t1`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
                  FROM `orders` AS `t1`
                  WHERE
                    `t1`.`status` = 'completed'
                    AND `t1`.`customer_id` IS NOT NULL
                    AND `t1`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
                ) AS `t5`
                  ON `t6`.`customer_id` = `t5`.`buyer`
                  AND `t5`.`order_date` >= `t6`.`event_date`
                  AND DATE_DIFF(`t5`.`order_date`, `t6`.`event_date`, DAY) <= 1
              ) AS `t9`
            ) AS `t10`
          ) AS `t12`
            ON `t6`.`customer_id` = `t12`.`customer_id`
            AND `t6`.`event_date` = `t12`.`event_date`
        ) AS `t13`
      ) AS `t14`
      GROUP BY
        1
    ) AS `t15`
  ) AS `t17`
  LEFT OUTER JOIN (
    SELECT
      `t3`.`month`,
      COUNT(`t3`.`event_id`) AS `anonymous_cart_adds`
    FROM (
      SELECT
        `t0`.`event_id`,
        `t0`.`occurred_at`,
        `t0`.`event_type`,
        `t0`.`anonymous_id`,
        `t0`.`customer_id`,
        `t0`.`session_id`,
        `t0`.`product_id`,
        `t0`.`category`,
        `t0`.`search_query`,
        `t0`.`page_url`,
        `t0`.`referrer`,
        `t0`.`quantity`,
        `t0`.`source`,
        DATE(TIMESTAMP_ADD(`t0`.`occurred_at`, INTERVAL '9' HOUR)) AS `event_date`,
        DATE_TRUNC(DATE(TIMESTAMP_ADD(`t0`.`occurred_at`, INTERVAL '9' HOUR)), MONTH) AS `month`
      FROM `web_events` AS `t0`
      WHERE
        `t0`.`event_type` = 'cart_add'
        AND DATE(TIMESTAMP_ADD(`t0`.`occurred_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
        AND `t0`.`customer_id` IS NULL
    ) AS `t3`
    GROUP BY
      1
  ) AS `t8`
    ON `t17`.`month` = `t8`.`month`
) AS `t18`
ORDER BY
  `t18`.`month` ASC NULLS LAST
